"""A partner's channel, for the per-channel knowledge tests: the partner's docs as a second knowledge source
beside the demo help center, the partner's prompt beside the system prompt, and bot.toml naming both."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.anthropic import FakeAnthropic, Reply

from tests.e2e.rig import result_text, tool_results

ROOT = Path(__file__).resolve().parents[1]
MAIN_URL = "https://help.northwind.example/"
PARTNER_URL = "https://docs.acme-trail.example/"
PARTNER_VOICE = (
    "In this channel you answer for Acme Trail, our rental partner. Sign off as 'Acme Trail help'."
)
QUESTION = "how do returns work?"
SEARCH = ("search_kb", {"query": "return policy refund"})

_PARTNER_ARTICLES = {
    "returns.md": (
        "Returning rented Acme Trail gear",
        "returns",
        "Bring rented gear back to any Acme Trail counter. The return policy: a refund of the deposit "
        "within 5 days once the gear is checked.",
    ),
    "damage.md": (
        "Damaged rental gear",
        "damage",
        "Tell us about damage when you return the gear; small wear is free, repairs are taken from the "
        "deposit and the rest is refunded.",
    ),
}


@dataclass(frozen=True)
class PartnerSetup:
    config: Path
    """bot.toml with both sources and the partner's channel."""
    system_prompt: Path
    """The system prompt, with the partner's prompt beside it."""


def partner_setup(folder: Path, base_toml: Path, *, partner_id: str, main_id: str) -> PartnerSetup:
    """``base_toml`` (written by a rig's ``bot_toml``) plus two knowledge sources, ``main`` (the demo help
    center) and ``partner`` (the partner's docs, written here); ``[channels."main_id"]`` (a workspace or a
    guild) searches ``main`` only, and ``[channels."partner_id"]`` ``partner`` only, in the partner's
    voice. The system prompt and ``partner.md`` go in ``folder/prompts``."""
    docs = folder / "partner-docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, (title, slug, body) in _PARTNER_ARTICLES.items():
        front = f'---\ntitle: "{title}"\nurl: {PARTNER_URL}{slug}\nvisibility: public\n---\n'
        (docs / name).write_text(f"{front}# {title}\n\n{body}\n", encoding="utf-8")
    prompts = folder / "prompts"
    prompts.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "prompts" / "system.md", prompts / "system.md")
    (prompts / "partner.md").write_text(PARTNER_VOICE + "\n", encoding="utf-8")
    text = base_toml.read_text(encoding="utf-8")
    text += f'\n[channels."{main_id}"]\nkb = ["main"]\n'
    text += f'\n[channels."{partner_id}"]\nkb = ["partner"]\nprompt = "partner.md"\n'
    for name, path in (("main", ROOT / "config" / "kb"), ("partner", docs)):
        text += f'\n[[kb.sources]]\nname = "{name}"\nkind = "folder"\npath = "{path.as_posix()}"\n'
    config = folder / "bot-partner.toml"
    config.write_text(text, encoding="utf-8")
    return PartnerSetup(config, prompts / "system.md")


def script_two_searches(model: FakeAnthropic) -> None:
    """Two answers, each after a search for the same words (the model asks; the channel decides)."""
    model.script(
        Reply.tool_use(SEARCH),
        Reply.text("First answer."),
        Reply.tool_use(SEARCH),
        Reply.text("Second answer."),
    )


def searched(model: FakeAnthropic, request: int) -> str:
    """The search results the model got in request number ``request`` (the one after its search)."""
    [block] = tool_results(model.message_requests[request].body["messages"])
    return result_text(block)


def system_text(model: FakeAnthropic, request: int) -> str:
    system: list[dict[str, Any]] = model.message_requests[request].body["system"]
    return "\n".join(block["text"] for block in system)
