"""Long-thread benchmark: input tokens per turn and prompt-cache share over one thread of many turns.

    python bench/long_thread.py [--turns 500] [--plain] [--history-tokens N] [--history-turns N]

Builds the real app with `bot.run.app.build_app` (SQLite store, KB index and demo orders in a temporary
folder, the repository's `config/bot.toml` with its history budget) and sends ``--turns`` messages, one
after the other, in one thread through ``app.service.handle``, as one customer. The model is the fake
Messages API (tests/fakes, in this process: this measures tokens, not CPU) reached through the real
``anthropic`` SDK. Its usage figures are estimated from each request (bytes / 4) with its prompt-cache
model: the longest prefix cached before (at a ``cache_control`` breakpoint, at least 1,024 tokens, within
5 minutes) is reported as ``cache_read_input_tokens``, the part newly cached up to the request's last
breakpoint as ``cache_creation_input_tokens``, and the rest (JSON framing included) as ``input_tokens``.

The thread is a support conversation with short answers, the model following the system prompt: in every
8 messages, six policy questions (``search_kb``, then a two-sentence answer), one order question
(``lookup_order``, then the answer) and one thank-you (answered at once). ``--plain`` answers the policy
questions without searching, which makes every turn much smaller. Turns 5, 50 and 500 are policy questions.
Older turns are folded into the thread's summary by the summary model (a non-streaming request answered
with a summary of about 150 words).

The per-user rate and the daily token budget of `config/bot.toml` are lifted for the run (one customer
sends 500 messages in half a minute); everything else is the repository's configuration.

Prints, from the usage rows the app stored: the input tokens of the answer (uncached input + cache read +
cache write over its model rounds, and each part) at turns 5, 50 and 500, the ratio of turn 500 to turn 5
(target: at most 1.5) with the spread over the later turns of the same kind, the share of input tokens
read from the cache on turns 2 and later (target: at least 80%), and the summary requests' tokens.
Figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply  # noqa: E402

from bench.report import Figure, emit  # noqa: E402
from bot.inbound import Budgets, Inbound  # noqa: E402
from bot.run.app import build_app  # noqa: E402
from bot.runtime import App  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import UsageRecord  # noqa: E402
from bot.streaming.budget import EditBudget  # noqa: E402
from bot.streaming.protocol import Footer, MessageRef, ReplyLimits  # noqa: E402
from bot.types import Principal, Role, ThreadRef  # noqa: E402

CUSTOMER = Principal("bench", "u-1001", "Ada Lovelace", frozenset({Role.CUSTOMER}), "C-1001")
ORDERS = ("ORD-10001", "ORD-10002", "ORD-10003")

POLICY = (
    (
        "How long does standard shipping usually take to Denver?",
        "Standard shipping takes 3 to 5 business days within the US, so Denver is usually reached in about "
        "4. You get a tracking link by email as soon as the parcel leaves the warehouse.",
    ),
    (
        "Can I change the delivery address after I placed the order?",
        "Yes, as long as the order has not shipped yet: reply here with the new address. Once it has "
        "shipped, the carrier can redirect it from the tracking page.",
    ),
    (
        "Do you ship to Canada, and are there customs fees?",
        "We ship to Canada in 5 to 8 business days. Duties and taxes are collected at checkout, so there "
        "is nothing extra to pay on delivery.",
    ),
    (
        "I forgot my password and the reset email never arrives. What can I do?",
        "Check your spam folder and that the address matches your account. If nothing arrives in ten "
        "minutes, I can hand you to a person who can verify you and reset it.",
    ),
    (
        "Is it possible to pay with two different cards for one order?",
        "One order takes one card, but you can combine a card with a gift card balance.",
    ),
    (
        "The box arrived a bit dented, but the item looks fine. Should I report it?",
        "Please keep the box for now. If damage shows up later, send us a photo within 30 days and we will "
        "replace the item.",
    ),
    (
        "What is your return policy for opened items?",
        "Opened items can be returned within 30 days if they are unused and complete; start the return "
        "from your order page.",
    ),
    (
        "How long does a refund take to reach my card?",
        "Refunds are issued within 2 business days of the return arriving; your bank then takes 5 to 10 "
        "business days to show it.",
    ),
    (
        "How does the warranty work if something breaks after a few months?",
        "Gear has a one-year warranty against defects: send a photo and your order number and we repair "
        "or replace it.",
    ),
    (
        "Can I exchange a jacket for another size?",
        "Yes, exchanges for another size are free within 30 days; pick 'exchange' when you start the return.",
    ),
)
FOLLOW_UPS = ("Thanks, that helps.", "Great, thank you!", "OK, good to know.")
FOLLOW_UP_ANSWER = "You're welcome! Is there anything else I can help you with?"
ORDER_ANSWER = (
    "Your order {order} has shipped with UPS and is on its way; the carrier expects delivery within two "
    "business days. The tracking number is 1Z999AA10123456784."
)
SUMMARY = (
    "Ada Lovelace (customer C-1001) has been asking about shipping times, delivery addresses, returns, "
    "refunds, warranty and payment options over a long thread. The bot looked up her orders ORD-10001, "
    "ORD-10002 and ORD-10003 several times: ORD-10001 shipped with UPS (tracking given), the others are in "
    "transit. It explained standard shipping (3 to 5 business days), Canada shipping with duties at "
    "checkout, the 30-day return window for opened items, refunds within 5 to 10 business days, the "
    "one-year warranty, exchanges for another size, gift cards by email and weekend support hours. She "
    "reported a dented box with an undamaged item and was told to keep the box and send photos within 30 "
    "days if damage shows up. No escalation is open; nothing is pending from the bot's side."
)
ANSWER_BY_QUESTION = dict(POLICY)


def question(n: int) -> str:
    """The ``n``-th message (1-based) of the thread: in every 8, six policy questions, one about an order and
    one thank-you; turns 5, 50 and 500 are policy questions."""
    if n % 8 == 3:
        return f"Where is my order {ORDERS[(n // 8) % len(ORDERS)]}? I ordered it last week."
    if n % 8 == 7:
        return FOLLOW_UPS[(n // 8) % len(FOLLOW_UPS)]
    return POLICY[n % len(POLICY)][0]


# ---- the fake model -------------------------------------------------------------------------------------


class Model:
    """Answers as the system prompt asks: ``search_kb`` before a policy answer, ``lookup_order`` for an
    order id, a short answer to a thank-you. With ``plain``, policy questions are answered at once."""

    def __init__(self, summary_model: str, *, plain: bool) -> None:
        self.summary_model = summary_model
        self.plain = plain

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.model == self.summary_model:
            return Reply.text(SUMMARY, chunk=64, ping=False)
        asked = _last_question(request.messages)
        last = request.messages[-1]["content"]
        if any(block.get("type") == "tool_result" for block in last):
            order = re.search(r"ORD-\d+", asked)
            if order:
                return Reply.text(ORDER_ANSWER.format(order=order.group(0)), chunk=24, ping=False)
            return Reply.text(ANSWER_BY_QUESTION.get(asked, FOLLOW_UP_ANSWER), chunk=24, ping=False)
        order = re.search(r"ORD-\d+", asked)
        if order:
            return Reply.tool_use(("lookup_order", {"order_id": order.group(0)}), ping=False)
        if asked in ANSWER_BY_QUESTION:
            if self.plain:
                return Reply.text(ANSWER_BY_QUESTION[asked], chunk=24, ping=False)
            return Reply.tool_use(("search_kb", {"query": asked[:80]}), ping=False)
        return Reply.text(FOLLOW_UP_ANSWER, chunk=24, ping=False)


def _last_question(messages: list[dict[str, Any]]) -> str:
    """The newest user text of the request, without the author's name."""
    for message in reversed(messages):
        if message["role"] != "user":
            continue
        texts = [block["text"] for block in message["content"] if block.get("type") == "text"]
        if texts:
            return texts[-1].split(": ", 1)[-1]
    return ""


# ---- the app --------------------------------------------------------------------------------------------


class NullStream:
    """A ReplyStream that accepts every post and edit and shows nothing."""

    def __init__(self) -> None:
        self._limits = ReplyLimits(100_000, 0.0)

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        return uuid.uuid4().hex

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        return None


def bot_config(folder: Path, args: argparse.Namespace) -> Path:
    """The repository's bot.toml with the per-user rate and the daily token budget lifted (and the history
    budget overridden where asked)."""
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^messages_per_user_per_minute = \d+", "messages_per_user_per_minute = 100000", text)
    text = re.sub(r"(?m)^daily_tokens_per_space = \d+", "daily_tokens_per_space = 1000000000", text)
    if args.history_tokens:
        text = re.sub(
            r"(?m)^history_token_budget = \d+", f"history_token_budget = {args.history_tokens}", text
        )
    if args.history_turns:
        text = re.sub(r"(?m)^history_turns = \d+", f"history_turns = {args.history_turns}", text)
    path = folder / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settings(folder: Path, base_url: str, args: argparse.Namespace) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key="bench-key",
        anthropic_base_url=base_url,
        model_max_retries=0,
        model_timeout_seconds=30.0,
        database_url=f"sqlite:///{folder / 'store.db'}",
        kb_path=ROOT / "config" / "kb",
        kb_index_path=folder / "kb.sqlite3",
        bot_config_path=bot_config(folder, args),
        system_prompt_path=ROOT / "config" / "prompts" / "system.md",
        demo_orders_path=ROOT / "config" / "demo" / "orders.json",
        orders_db_path=folder / "orders.sqlite3",
        orders_api_url=None,
        orders_api_token=None,
        log_level="WARNING",
    )


@dataclass(frozen=True)
class TurnFigures:
    """The answer's usage (all its model rounds) and the summary request's, if the turn folded."""

    input: int
    cache_read: int
    cache_write: int
    rounds: int
    summary_input: int
    summary_output: int

    @property
    def total(self) -> int:
        return self.input + self.cache_read + self.cache_write


def figures(rows: list[UsageRecord], rounds: int, summary_model: str) -> TurnFigures:
    answer = [row for row in rows if row.model != summary_model]
    summary = [row for row in rows if row.model == summary_model]
    return TurnFigures(
        sum(row.input_tokens for row in answer),
        sum(row.cache_read_tokens for row in answer),
        sum(row.cache_write_tokens for row in answer),
        rounds,
        sum(row.input_tokens + row.cache_read_tokens + row.cache_write_tokens for row in summary),
        sum(row.output_tokens for row in summary),
    )


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="long-thread-bench-") as tmp:
        async with FakeAnthropic() as fake:
            app_settings = settings(Path(tmp), fake.base_url, args)
            fake.responder = Model(app_settings.summary_model, plain=args.plain)
            app = await build_app(app_settings)
            try:
                turns = await drive(app, fake, args.turns)
                budget = app.config.agent
            finally:
                await app.close()
            invalid = len(fake.validation_errors)
    print(
        f"long thread: {len(turns)} turns in one thread as one customer; in every 8 messages six policy "
        f"questions ({'answered at once' if args.plain else 'search_kb, then the answer'}), one order "
        "question (lookup_order, then the answer) and one thank-you"
    )
    print(
        f"history budget (config/bot.toml [agent]): {budget.history_token_budget:,} tokens, "
        f"{budget.history_turns} turns; answer model {app_settings.answer_model}, summary model "
        f"{app_settings.summary_model}; {invalid} invalid requests; {time.perf_counter() - started:.1f} s"
    )
    print()
    emit("long_thread", report(turns))


async def drive(app: App, fake: FakeAnthropic, turns: int) -> list[TurnFigures]:
    ref = ThreadRef("bench", "space", "channel", uuid.uuid4().hex)
    budgets = Budgets(edits=EditBudget(rate=1e6, burst=1000), posts=EditBudget(rate=1e6, burst=1000))
    since = datetime.now(UTC) - timedelta(minutes=1)
    summary_model = app.settings.summary_model
    done: list[tuple[str, int]] = []
    for n in range(1, turns + 1):
        before = len(fake.message_requests)
        message = Inbound(ref, CUSTOMER, question(n), f"q-{n}", datetime.now(UTC))
        handled = await app.service.handle(message, NullStream(), budgets)
        if handled.status != "answered" or handled.outcome is None or handled.outcome.failed:
            raise RuntimeError(f"turn {n} was not answered: {handled}")
        assert handled.reply_id is not None
        rounds = sum(1 for r in fake.message_requests[before:] if r.model != summary_model)
        done.append((handled.reply_id, rounds))
    by_reply: dict[str, list[UsageRecord]] = {}
    for row in await app.store.usage_since(since):
        by_reply.setdefault(row.reply_id, []).append(row)
    return [figures(by_reply.get(reply_id, []), rounds, summary_model) for reply_id, rounds in done]


def report(turns: list[TurnFigures]) -> list[Figure]:
    row = "{:>6}  {:>6}  {:>12}  {:>9}  {:>10}  {:>11}  {:>7}  {:>10}"
    print(
        row.format(
            "turn", "rounds", "input tokens", "uncached", "cache read", "cache write", "cached", "summary in"
        )
    )
    for n in (5, 50, 500):
        if n > len(turns):
            continue
        t = turns[n - 1]
        print(
            row.format(
                n,
                t.rounds,
                f"{t.total:,}",
                f"{t.input:,}",
                f"{t.cache_read:,}",
                f"{t.cache_write:,}",
                f"{t.cache_read / t.total:.0%}" if t.total else "-",
                f"{t.summary_input:,}",
            )
        )
    print("(input tokens = uncached input + cache read + cache write, over the answer's model rounds)")
    print()
    last, fifth = turns[-1], turns[min(4, len(turns) - 1)]
    print(f"turn {len(turns)} / turn 5 input tokens: {last.total / fifth.total:.2f}  (target: at most 1.5)")
    later = turns[1:]
    read = sum(t.cache_read for t in later)
    total = sum(t.total for t in later)
    summary_in = sum(t.summary_input for t in later)
    print(
        f"cache share, turns 2-{len(turns)}: {read / total:.1%} of the answers' input tokens read from the "
        f"cache (target: at least 80%); {read / (total + summary_in):.1%} counting the summary requests"
    )
    alike = [t.total for t in turns[50:] if t.rounds == fifth.rounds and t.summary_input == 0]
    if alike:
        print(
            f"turns after 50 with {fifth.rounds} round(s) and no fold: input tokens mean "
            f"{statistics.mean(alike):,.0f} ({statistics.mean(alike) / fifth.total:.2f} x turn 5), "
            f"min {min(alike):,}, max {max(alike):,} ({max(alike) / fifth.total:.2f} x turn 5)"
        )
    folds = sum(1 for t in turns if t.summary_input)
    print(
        f"summaries: {folds} requests, {summary_in:,} input and {sum(t.summary_output for t in turns):,} "
        f"output tokens ({summary_in / len(turns):,.0f} input tokens a turn on average)"
    )
    return [
        Figure(f"input tokens, turn {len(turns)} / turn 5", last.total / fifth.total, at_most=1.5),
        Figure(f"cache share of input, turns 2-{len(turns)}", read / total * 100, "%", at_least=80),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument(
        "--plain", action="store_true", help="policy questions answered without search_kb (shorter turns)"
    )
    parser.add_argument("--history-tokens", type=int, help="override [agent] history_token_budget")
    parser.add_argument("--history-turns", type=int, help="override [agent] history_turns")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
