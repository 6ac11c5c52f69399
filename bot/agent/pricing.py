"""Cost of tokens from the price table in `config/bot.toml`."""

from __future__ import annotations

from bot.agent.llm import TokenUsage
from bot.config import BotConfig
from bot.types import Usage


def priced(config: BotConfig, model: str, tokens: TokenUsage) -> Usage:
    price = config.price(model)
    cost = 0.0
    if price is not None:
        cost = (
            tokens.input_tokens * price.input
            + tokens.output_tokens * price.output
            + tokens.cache_read_tokens * price.cache_read
            + tokens.cache_write_tokens * price.cache_write
        ) / 1_000_000
    return Usage(
        tokens.input_tokens, tokens.output_tokens, tokens.cache_read_tokens, tokens.cache_write_tokens, cost
    )
