"""End to end: Discord messages in, streamed answers out, through discord.py and the anthropic SDK."""

from __future__ import annotations

import base64
import re
from typing import Any

from fakes.anthropic import Reply
from fakes.discord import FakeDiscord

from bot.store import PendingReply
from bot.streaming.reply import INTERRUPTED_NOTICE
from integrations.discord.inbound import thread_ref
from tests.discord.rig import PDF, PNG, RigFactory, assert_settled, sources_line

RETURNS_URL = "https://help.northwind.example/articles/returns-policy"


def request_texts(rig: object, index: int) -> list[tuple[str, str]]:
    """The (role, text) of each message the model was sent in its ``index``-th request."""
    messages = rig.model.message_requests[index].body["messages"]  # type: ignore[attr-defined]
    return [
        (m["role"], "\n".join(b.get("text", "") for b in m["content"] if b.get("type") == "text"))
        for m in messages
    ]


async def test_a_mention_opens_a_thread_named_from_the_question_and_streams_the_answer(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    answer = (
        "Returns are free within **30 days** of delivery.\n\n"
        "1. Start the return in your account\n2. Print the label\n\n"
        f"See [the returns policy]({RETURNS_URL}) for the details."
    )
    rig.model.script(
        Reply.tool_use(("search_kb", {"query": "return policy"})),
        Reply.text(answer, tokens_per_second=150, chunk=6),
    )
    question = await rig.mention(fake.alice, "how do **returns** work?")

    thread = rig.thread_of(question)
    assert thread.parent_id == fake.support.id and thread.name == "how do returns work?"
    [reply] = rig.answers(thread)
    assert reply.content == answer.replace(
        f"[the returns policy]({RETURNS_URL})", f"the returns policy (<{RETURNS_URL}>)"
    )
    growing = [v for v in reply.versions[:-1] if v.endswith(" ▍")]
    assert reply.versions[0].endswith(" ▍") and len(growing) >= 2  # first text, then edits as it grew
    assert all(not v.startswith("_Thinking") for v in reply.versions)  # typing instead of a placeholder
    assert fake.typing(thread)
    sources = sources_line(reply)
    # The first source is the section of the returns policy the search found (url#anchor).
    assert sources is not None and sources.startswith(f"Sources: [Returns policy]({RETURNS_URL}#")
    reply_id = reply.custom_ids()[0].rsplit(":", 1)[1]
    assert reply.custom_ids() == [
        f"supportbot:helpful:{reply_id}",
        f"supportbot:not_helpful:{reply_id}",
        f"supportbot:escalate:{reply_id}",
        f"supportbot:solve:{reply_id}",
    ]
    assert not fake.pinged(reply) and reply.allowed_mentions == {"parse": []}
    assert fake.rate_limited_count == 0

    assert request_texts(rig, 0) == [("user", "alice: how do **returns** work?")]
    store = rig.core.store
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)
    turns = await store.load_turns(ref)
    assert [(t.role, t.message_id) for t in turns] == [
        ("user", str(question.id)),
        ("assistant", str(reply.id)),
    ]
    assert turns[1].text == answer and turns[1].exchange
    [record] = await store.replies_since(turns[0].sent_at)
    assert record.reply_id == reply_id and record.first_text_ms is not None and not record.failed
    assert await store.pending_replies("discord") == []


async def test_a_follow_up_in_the_thread_needs_no_mention(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    rig.model.script(
        Reply.text("Order ORD-10001 shipped on Monday.", tokens_per_second=200),
        Reply.text("It should arrive on **Friday**.", tokens_per_second=200),
    )
    question = await rig.mention(fake.alice, "where is ORD-10001?")
    thread = rig.thread_of(question)
    await rig.say(thread, fake.alice, "when will it arrive?")

    first, second = rig.answers(thread)
    assert (first.content, second.content) == (
        "Order ORD-10001 shipped on Monday.",
        "It should arrive on **Friday**.",
    )
    assert request_texts(rig, 1) == [
        ("user", "alice: where is ORD-10001?"),
        ("assistant", "Order ORD-10001 shipped on Monday."),
        ("user", "alice: when will it arrive?"),
    ]
    assert_settled([first, second])
    # Someone else's message in a thread the bot did not open, and no mention: not for the bot.
    other = fake.add_thread(fake.general, "chatter", owner=fake.alice)
    await rig.say(other, fake.alice, "anyone around?")
    assert len(rig.model.message_requests) == 2 and rig.answers(other) == []


async def test_a_forum_post_is_answered_in_the_post_with_its_starter_message(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(channels={str(fake_discord.forum.id): {"forum": True}})
    fake = rig.fake
    rig.model.script(Reply.text("A refund takes 5 to 7 days once we have the parcel.", tokens_per_second=200))
    post = await fake.forum_post(fake.forum, fake.alice, "Refund?", "How long does a refund take?")
    await rig.wait_seen(post.message.id)
    [reply] = rig.answers(post.thread)
    assert reply.content == "A refund takes 5 to 7 days once we have the parcel."
    assert request_texts(rig, 0) == [("user", "alice: How long does a refund take?")]

    rig.model.script(Reply.text("Yes, to the original card.", tokens_per_second=200))
    await rig.say(post.thread, fake.alice, "to my card?")
    assert rig.answers(post.thread)[-1].content == "Yes, to the original card."
    assert request_texts(rig, 1)[0] == ("user", "alice: How long does a refund take?")  # the starter


async def test_a_direct_message_is_answered_and_can_be_switched_off(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    rig.model.script(Reply.text("Hi Alice! How can I help?", tokens_per_second=200))
    message = await fake.dm(fake.alice, "hello")
    await rig.wait_seen(message.id)
    [reply] = rig.answers(fake.dm_channel(fake.alice))
    assert reply.content == "Hi Alice! How can I help?" and reply.custom_ids()

    await rig.front.stop(1.0)
    quiet = await discord_rig(discord_dms=False)
    message = await fake.dm(fake.lead, "hello?")
    await quiet.wait_seen(message.id)
    assert rig.answers(fake.dm_channel(fake.lead)) == [] and len(rig.model.message_requests) == 1


async def test_a_long_answer_with_a_code_block_continues_in_new_messages(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    lines = "\n".join(f"step_{n} = configure(order='ORD-{10000 + n}', retries={n % 5})" for n in range(90))
    answer = f"Here is the script:\n\n```python\n{lines}\n```\n\nRun it once per order."
    assert len(answer) > 4000
    rig.model.script(Reply.text(answer, tokens_per_second=2000, chunk=40))
    question = await rig.mention(fake.alice, "how do I script this?")

    messages = rig.answers(rig.thread_of(question))
    assert len(messages) >= 3 and all(len(m.content) <= 2000 for m in messages)
    for message in messages:
        assert message.content.count("```") % 2 == 0, message.content[-80:]  # every block closed
    assert messages[1].content.startswith("```python\n")  # reopened with its language
    code = "".join(re.sub(r"```(python)?\n?", "", m.content) for m in messages)
    assert all(f"step_{n} = " in code for n in range(90))
    assert messages[-1].content.endswith("Run it once per order.")
    assert messages[-1].custom_ids() and not messages[0].custom_ids()
    assert_settled(messages)


async def test_model_text_pings_nobody(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    answer = f"@everyone @here look: {fake.lead.mention} and {fake.lead_role.mention} will help."
    rig.model.script(Reply.text(answer, tokens_per_second=100, chunk=5))
    question = await rig.mention(fake.alice, "who can help?")
    [reply] = rig.answers(rig.thread_of(question))
    assert reply.content == answer
    assert not fake.pinged(reply)  # over the first post and every edit
    sent = [c.body for c in fake.calls() if c.method in ("POST", "PATCH") and isinstance(c.body, dict)]
    assert all(b["allowed_mentions"] == {"parse": []} for b in sent if "content" in b)


async def test_reply_chains_and_attachments_are_read_and_bots_and_system_messages_ignored(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    log = fake.attachment(fake.support, "error.log", b"ERROR checkout: card declined (code 51)\n")
    image = fake.attachment(fake.support, "screenshot.png", PNG, "image/png")
    first = await rig.say(fake.support, fake.lead, "Checkout fails for me", attachments=[log, image])
    rig.model.script(Reply.text("Code 51 means the card was declined by the bank.", tokens_per_second=200))
    question = await rig.say(
        fake.support, fake.alice, f"{fake.bot_user.mention} same here, what is it?", reply_to=first
    )

    [reply] = rig.answers(rig.thread_of(question))
    assert reply.content == "Code 51 means the card was declined by the bank."
    [request] = rig.model.message_requests
    [message] = request.body["messages"]
    # Each file has the line Slack's files have (bot.attachments.file_line); a text file's content follows.
    assert message["content"][0]["text"] == (
        "Team Lead: Checkout fails for me\n"
        "[attached: error.log (text/plain, 40 bytes)]\n"
        "[content of error.log]\n```\nERROR checkout: card declined (code 51)\n```\n"
        "[attached: screenshot.png (image/png, 56 bytes)]\n\n"
        "alice: same here, what is it?"
    )
    # The image was downloaded from Discord's CDN and its first bytes checked, as Slack's are.
    images = [block for block in message["content"] if block["type"] == "image"]
    assert [block["source"] for block in images] == [base64_source("image/png", PNG)]

    bot = fake.add_user("helper-bot", bot=True)
    fake.add_member(fake.guild, bot)
    await rig.say(fake.support, fake.guild.members[bot.id], f"{fake.bot_user.mention} ping")
    pinned = fake.user_message(fake.support, fake.alice, f"{fake.bot_user.mention} pinned a message")
    pinned["type"] = 6  # CHANNEL_PINNED_MESSAGE
    await rig.deliver(pinned)
    assert len(rig.model.message_requests) == 1


async def test_files_past_the_shared_limits_are_named_with_why_they_were_not_read(
    discord_rig: RigFactory,
) -> None:
    """Discord reads a message's files within bot.attachments' limits, as Slack does: an image too big for
    the API (its size in MB) and the files after the first five are not downloaded, and the model is told
    why after each one's line, so the answer can say so."""
    rig = await discord_rig()
    fake = rig.fake
    photo = fake.attachment(fake.support, "photo.png", b"\x89PNG big", "image/png")
    photo["size"] = 4_500_000  # more than LIMITS.image_bytes
    notes = [fake.attachment(fake.support, f"note{n}.txt", f"note {n}\n".encode()) for n in range(5)]
    rig.model.script(Reply.text("Four notes.", tokens_per_second=200))
    question = await rig.say(
        fake.support, fake.alice, f"{fake.bot_user.mention} what do these say?", attachments=[photo, *notes]
    )

    assert [reply.content for reply in rig.answers(rig.thread_of(question))] == ["Four notes."]
    [request] = rig.model.message_requests
    [message] = request.body["messages"]
    read = "".join(
        f"[attached: note{n}.txt (text/plain, 7 bytes)]\n[content of note{n}.txt]\n```\nnote {n}\n```\n"
        for n in range(4)
    )
    [block] = message["content"]  # no image block
    assert block["text"] == (
        "alice: what do these say?\n[attached: photo.png (image/png, 4.3 MB)]\n"
        "[photo.png was not read: it is too big (4.3 MB; the limit is 3.6 MB)]\n"
        f"{read}[attached: note4.txt (text/plain, 7 bytes)]\n"
        "[note4.txt was not read: only 5 files are read per message]"
    )
    assert int(photo["id"]) not in fake.cdn_downloads and int(notes[4]["id"]) not in fake.cdn_downloads


async def test_pdfs_and_images_are_downloaded_and_checked_and_the_rest_noted(discord_rig: RigFactory) -> None:
    """As on Slack: a PDF goes to the model as a document block and a PNG as an image block, both read
    from Discord's CDN; a file that says it is an image but is not one, a failed download, a file that
    lied about its size (the download stops at the limit) and a type the model does not read are each
    named with a note saying why."""
    rig = await discord_rig()
    fake = rig.fake
    pdf = fake.attachment(fake.support, "invoice.pdf", PDF, "application/pdf")
    png = fake.attachment(fake.support, "screen.png", PNG, "image/png")
    fake_image = fake.attachment(fake.support, "virus.png", b"MZ\x90\x00 not an image", "image/png")
    gone = fake.attachment(fake.support, "gone.txt", b"deleted from the CDN\n")
    gone["url"] = gone["url"].replace(gone["id"], "1")  # the CDN answers 404
    liar = fake.attachment(fake.support, "huge.log", b"x" * 300_000)
    liar["size"] = 10
    rig.model.script(Reply.text("Your invoice shows two charges.", tokens_per_second=200))
    question = await rig.say(
        fake.support,
        fake.alice,
        f"{fake.bot_user.mention} why was I charged twice?",
        attachments=[pdf, png, fake_image, gone, liar],
    )

    assert [r.content for r in rig.answers(rig.thread_of(question))] == ["Your invoice shows two charges."]
    [request] = rig.model.message_requests
    [message] = request.body["messages"]
    text, *blocks = message["content"]
    assert text["text"] == (
        "alice: why was I charged twice?\n"
        "[attached: invoice.pdf (application/pdf, 48 bytes)]\n"
        "[attached: screen.png (image/png, 56 bytes)]\n"
        "[attached: virus.png (image/png, 17 bytes)]\n"
        "[virus.png was not read: its content is not what its type says]\n"
        "[attached: gone.txt (text/plain, 21 bytes)]\n"
        "[gone.txt was not read: the download failed (HTTP 404)]\n"
        "[attached: huge.log (text/plain, 10 bytes)]\n"
        "[huge.log was not read: the download failed (larger than 256 KB)]"
    )
    assert [(block["type"], block["source"]) for block in blocks] == [
        ("document", base64_source("application/pdf", PDF)),
        ("image", base64_source("image/png", PNG)),
    ]

    archive = fake.attachment(fake.support, "logs.zip", b"PK\x03\x04", "application/zip")
    rig.model.script(Reply.text("I cannot open archives.", tokens_per_second=200))
    await rig.say(rig.thread_of(question), fake.alice, "and this one?", attachments=[archive])
    follow_up = rig.model.message_requests[1].body["messages"][-1]["content"]
    assert follow_up[0]["text"].endswith(
        "alice: and this one?\n[attached: logs.zip (application/zip, 4 bytes)]\n"
        "[logs.zip was not read: the type application/zip cannot be read]"
    )
    # The earlier message's PDF and image still go with the answers in its thread, from what the first
    # answer downloaded (kept, within MAX_CACHED_FILE_BYTES): the CDN is not asked for them again.
    again = [b["type"] for m in rig.model.message_requests[1].body["messages"] for b in m["content"]]
    assert again.count("document") == again.count("image") == 1
    assert fake.cdn_downloads.count(int(pdf["id"])) == fake.cdn_downloads.count(int(png["id"])) == 1
    assert int(archive["id"]) not in fake.cdn_downloads  # a type the model does not read is not downloaded


def base64_source(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode("ascii")}


async def test_a_message_delivered_twice_is_answered_once_and_paused_channels_are_quiet(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    rig.model.script(Reply.text("It shipped.", tokens_per_second=200))
    payload = fake.user_message(fake.support, fake.alice, f"{fake.bot_user.mention} where is ORD-10001?")
    await rig.deliver(payload)
    await rig.deliver(payload)  # redelivered, as after a gateway RESUME
    thread = fake.channels[int(payload["id"])]
    assert [m.content for m in rig.answers(thread)] == ["It shipped."]
    assert len(rig.model.message_requests) == 1

    await rig.core.store.pause_channel("discord", str(fake.guild.id), str(fake.general.id), "lead")
    await rig.mention(fake.alice, "anyone?", channel=fake.general)
    assert fake.threads(fake.general) == [] and len(rig.model.message_requests) == 1


async def test_an_answer_cut_off_by_a_restart_is_settled_on_start(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    rig.model.script(Reply.text("Your parcel left the warehouse.", tokens_per_second=200))
    question = await rig.mention(fake.alice, "where is my parcel?")
    thread = rig.thread_of(question)
    [reply] = rig.answers(thread)
    # As if the process had died while streaming: the message shows text and the marker, still pending.
    cut = fake.message(reply.id)
    cut.content = "Your parcel left ▍"
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)
    store = rig.core.store
    await store.add_pending_reply(PendingReply("f" * 32, ref, str(reply.id), question.created_at))
    await rig.front.stop(1.0)

    again = await discord_rig()
    assert fake.message(reply.id).content == f"Your parcel left\n\n{INTERRUPTED_NOTICE}"
    assert await again.core.store.pending_replies("discord") == []


async def test_every_interim_edit_of_an_answer_with_code_shows_its_code_block_closed(
    discord_rig: RigFactory,
) -> None:
    """While a code block is being written, each edit closes it: the reader sees code, not raw backticks
    with the code's ``*`` and ``_`` taken for emphasis."""
    rig = await discord_rig()
    answer = (
        "Run this to check the refund:\n\n```python\ndef refund(*args, **kwargs):\n"
        + "".join(f"    total_{i} = _amount(*args) * {i}\n" for i in range(12))
        + "    return total_0\n```\n\nThen reply here with the *result*."
    )
    rig.model.script(Reply.text(answer, tokens_per_second=40, chunk=8))
    question = await rig.mention(rig.fake.alice, "how do I check my refund?")

    [reply] = rig.answers(rig.thread_of(question))
    assert reply.content == answer
    interim = reply.versions[:-1]
    inside = [v for v in interim if "```python" in v and v.count("```") == 2 and v.endswith("```\n ▍")]
    assert len(interim) >= 3 and inside  # edits were shown while the block was being written
    assert all(len(re.findall(r"^```", v, re.MULTILINE)) % 2 == 0 for v in interim), interim
