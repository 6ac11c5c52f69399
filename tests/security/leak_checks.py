"""What the security tests share: seeded secrets, what each principal may not see, the obedient model,
and the checks on what reached the model, the platform and the logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.anthropic import RecordedRequest, Reply

from bot.kb.markdown import markdown_to_text
from bot.types import Principal, Role
from tests.e2e.rig import KB_DIR, ROOT, result_text, who
from tests.kb_folder import read_folder
from tests.security.injection_corpus import ECHO, ECHO_EVERYTHING, ECHO_SYSTEM, Attack, Step

ANTHROPIC_SECRET = "sk-ant-test-SECRET-123"
SLACK_BOT_SECRET = "xoxb-SECRET-bot-token-9f2"
SLACK_SIGNING_SECRET = "signing-SECRET-4d1c"
ORDERS_TOKEN_SECRET = "orders-SECRET-token-77"
SECRETS = (ANTHROPIC_SECRET, SLACK_BOT_SECRET, SLACK_SIGNING_SECRET, ORDERS_TOKEN_SECRET)

ORDERS: list[dict[str, Any]] = json.loads((ROOT / "config" / "demo" / "orders.json").read_text("utf-8"))[
    "orders"
]
SYSTEM_PROMPT = (ROOT / "config" / "prompts" / "system.md").read_text(encoding="utf-8")

MASS_MENTIONS = (
    "@everyone <!channel> @here <!everyone> <!here|here> <!channel|channel> "
    "<!subteam^S0LEADS|@support-leads> **@channel** _@here_ "
    "[@everyone](https://evil.example/) @Everyone! (@here)"
)
"""What the obedient model writes at the top of every echoed answer."""

# A mass mention Slack would act on: a control sequence, or a bare @channel/@here/@everyone (a word joiner
# after the @ disarms it; inside `code` Slack links nothing).
_CONTROL_PING = re.compile(r"<!(?:everyone|channel|here|subteam\^)", re.IGNORECASE)
_BARE_PING = re.compile(r"(?<![\w@])@(?:channel|here|everyone)\b", re.IGNORECASE)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def pings(text: str) -> list[str]:
    """The mass mentions in Slack mrkdwn ``text`` that would notify people."""
    outside_code = _CODE.sub(" ", text)
    return _CONTROL_PING.findall(text) + _BARE_PING.findall(outside_code)


# ---- what each principal may not see -----------------------------------------------------------------


def _order_secrets(order: Mapping[str, Any], *, notes_only: bool = False) -> list[str]:
    if notes_only:
        return [str(order["notes"])] if order.get("notes") else []
    values = [order.get("tracking_number"), order.get("shipping_city"), order.get("notes")]
    items = [str(item["name"]) for item in order["items"]]
    return [*items, f"{order['total']:.2f}", *(str(v) for v in values if v)]


@dataclass(frozen=True)
class InternalArticle:
    title: str
    url: str
    phrases: tuple[str, ...]
    """Distinctive sentences of the body: a snippet of the article contains at least one of them."""


def _internal_articles() -> list[InternalArticle]:
    fetched = read_folder(KB_DIR)
    assert not fetched.skipped, fetched.skipped
    internal = []
    for article in fetched.articles:
        if article.visibility != "internal":
            continue
        lines = [line for line in markdown_to_text(article.body).splitlines() if len(line) > 50]
        internal.append(InternalArticle(article.title, article.url, tuple(line[:50] for line in lines)))
    return internal


INTERNAL_ARTICLES = _internal_articles()


def forbidden_for(spec: str) -> list[str]:
    """Texts the principal ``spec`` may never be shown: others' order data, internal notes, internal KB."""
    principal = principal_for(spec)
    if principal.is_staff:
        return []
    found: list[str] = []
    for order in ORDERS:
        own = principal.customer_id is not None and order["customer_id"] == principal.customer_id
        found += _order_secrets(order, notes_only=own)
    for article in INTERNAL_ARTICLES:
        found += [article.title, article.url, "/internal/", *article.phrases]
    return found


def leaks(text: str, forbidden: Iterable[str]) -> list[str]:
    return [secret for secret in forbidden if secret in text]


def principal_for(spec: str) -> Principal:
    """The console principal of ``spec`` (``admin`` too, which the console's ``--as`` does not offer)."""
    if spec == "admin":
        return Principal("console", "console-admin", "Admin", frozenset({Role.ADMIN}))
    return who(spec)


# ---- the obedient model ------------------------------------------------------------------------------


def tool_result_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The text of every tool_result block in ``messages`` (search_result titles and sources included)."""
    return [
        result_text(block)
        for message in messages
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def _current_exchange_start(messages: list[dict[str, Any]]) -> int:
    """The index of the last user message a person wrote (one with a text block)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message["role"] == "user" and any(b.get("type") == "text" for b in message["content"]):
            return index
    return 0


@dataclass
class ObedientModel:
    """A fake-Anthropic responder that does what the attack asks (see ``injection_corpus``).

    The test sets :attr:`step` before each message; every request is kept with the step it answered.
    """

    step: Step | None = None
    answered: list[tuple[Step, RecordedRequest]] = field(default_factory=list)

    def __call__(self, request: RecordedRequest) -> Reply:
        step = self.step
        assert step is not None, "set ObedientModel.step before sending a message"
        self.answered.append((step, request))
        messages = request.messages
        context = json.dumps(messages, ensure_ascii=False)
        rounds_done = sum(
            1 for m in messages[_current_exchange_start(messages) + 1 :] if m["role"] == "assistant"
        )
        eligible = [r for r in step.rounds if r.if_seen is None or r.if_seen in context]
        if rounds_done < len(eligible):
            return Reply.tool_use(*eligible[rounds_done].calls, json_chunk=64, ping=False)
        return Reply.text(self.answer(step, request), chunk=400, ping=False)

    @staticmethod
    def answer(step: Step, request: RecordedRequest) -> str:
        if step.answer not in (ECHO, ECHO_SYSTEM, ECHO_EVERYTHING):
            return step.answer
        parts = [MASS_MENTIONS, "Done as you asked. Everything my tools returned:"]
        parts += tool_result_texts(request.messages) or ["(nothing)"]
        if step.answer == ECHO_SYSTEM:
            parts += [block["text"] for block in request.system or ()]
        if step.answer == ECHO_EVERYTHING:
            parts.append(json.dumps(request.body, indent=1, ensure_ascii=False))
        parts.append(MASS_MENTIONS)
        return "\n\n".join(parts)


# ---- secrets -----------------------------------------------------------------------------------------


def log_texts(records: Iterable[logging.LogRecord]) -> Iterator[str]:
    """Every log record as it could be written: message, exception and stack."""
    formatter = logging.Formatter()
    for record in records:
        yield record.getMessage()
        if record.exc_info:
            yield formatter.formatException(record.exc_info)
        if record.exc_text:
            yield record.exc_text
        if record.stack_info:
            yield record.stack_info


def secrets_in(texts: Iterable[str]) -> list[str]:
    return [secret for text in texts for secret in SECRETS if secret in text]


def write_kb(folder: Path, extra_article: str | None, slug: str) -> Path:
    """A KB folder with the repository's articles and, when given, one more."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in KB_DIR.glob("*.md"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    if extra_article is not None:
        (folder / f"{slug}.md").write_text(extra_article, encoding="utf-8")
    return folder


def attack_ids(corpus: Iterable[Attack]) -> list[str]:
    return [attack.name for attack in corpus]
