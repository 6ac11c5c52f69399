"""Per-channel knowledge and voice (docs/architecture.md §6): what ``[channels."ID"]`` in config/bot.toml
says about the knowledge sources a thread may search (``kb``) and the prompt it is answered in (``prompt``).

A thread takes each key from the table of its channel (a Slack channel, a Discord channel; a thread or a
forum post counts as its parent channel), else from the table of its space (a Discord guild, or a Slack
workspace), else the bot-wide default: every source, the system prompt alone.

A channel's prompt is used in addition to the system prompt, after it: the system prompt keeps the rules
every channel must follow (what the tools enforce, when to escalate, what never to ask for); the
channel's prompt gives the voice and whose products it answers for. Prompt files are read once, at start,
and never logged.

``kb`` is enforced by the tools like visibility (``ToolContext.kb_sources``): whatever the model asks, a
search in that channel never returns an article of another source.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import BotConfig
from bot.errors import ConfigError
from bot.types import ThreadRef


@dataclass(frozen=True)
class ChannelScope:
    """What a thread may search and the prompt it is answered in."""

    kb_sources: frozenset[str] | None = None
    """The knowledge sources the thread's searches are limited to; None: every source."""
    prompt: str | None = None
    """The text of the channel's prompt, which follows the system prompt; None: the system prompt alone."""


EVERYWHERE = ChannelScope()


class ChannelScopes:
    """The scope of every configured channel and space, looked up by thread."""

    def __init__(self, by_id: Mapping[str, ChannelScope] | None = None) -> None:
        self._by_id = dict(by_id or {})

    def for_thread(self, ref: ThreadRef) -> ChannelScope:
        channel = self._by_id.get(ref.channel_id)
        space = self._by_id.get(ref.space_id)
        if space is None:
            return channel or EVERYWHERE
        if channel is None:
            return space
        return ChannelScope(
            kb_sources=space.kb_sources if channel.kb_sources is None else channel.kb_sources,
            prompt=space.prompt if channel.prompt is None else channel.prompt,
        )


def load_channel_scopes(
    config: BotConfig, *, config_path: Path, prompts_dir: Path, sources: Collection[str]
) -> ChannelScopes:
    """The scopes ``config`` sets, each checked: a ``kb`` names only ``sources``, a ``prompt`` file exists in
    ``prompts_dir``. A mistake is a :class:`ConfigError` naming the key (exit status 2)."""
    by_id: dict[str, ChannelScope] = {}
    for channel_id, override in config.channels.items():
        if override.kb is None and override.prompt is None:
            continue
        where = f"{config_path}: channels.{channel_id if channel_id.isprintable() else repr(channel_id)}"
        unknown = [name for name in override.kb or () if name not in sources]
        if unknown:
            known = ", ".join(sorted(sources)) or "none"
            raise ConfigError(f"{where}.kb: no knowledge source named {unknown[0]!r} (the sources: {known})")
        by_id[channel_id] = ChannelScope(
            kb_sources=None if override.kb is None else frozenset(override.kb),
            prompt=None if override.prompt is None else _read_prompt(prompts_dir / override.prompt, where),
        )
    return ChannelScopes(by_id)


def _read_prompt(path: Path, where: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{where}.prompt: {path} does not exist; put the file beside the system prompt"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}.prompt: {path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{where}.prompt: {path} cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ConfigError(f"{where}.prompt: {path} is empty")
    return text.strip()
