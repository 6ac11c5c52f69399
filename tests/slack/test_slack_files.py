"""End to end: files shared with a question reach the model (images, PDFs, text), the rest is named with a
note, and the bot token goes only to Slack's file host (slack-bolt, slack_sdk and anthropic against the
fakes)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from fakes.anthropic import Reply
from fakes.slack import FakeFile, FakeSlack, FileHost, UserPost, mention

from bot.agent.loop import REJECTED_IMAGE_NOTICE
from bot.attachments import FileLimits
from integrations.slack.files import SlackFiles
from integrations.slack.inbound import files_of
from tests.slack.rig import RigFactory, SlackRig, section_text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
CODE = b"def total(items):\n    return sum(i.price for i in items)  # card 4242 4242 4242 4242\n"


def last_user_content(rig: SlackRig, index: int = -1) -> list[dict[str, Any]]:
    """The content blocks of the last user message of the model's ``index``-th request."""
    messages = rig.model.message_requests[index].body["messages"]
    content: list[dict[str, Any]] = [m for m in messages if m["role"] == "user"][-1]["content"]
    return content


def texts(content: list[dict[str, Any]]) -> str:
    return "\n".join(block["text"] for block in content if block["type"] == "text")


async def share(rig: SlackRig, text: str, *files: FakeFile, thread_ts: str | None = None) -> UserPost:
    """``alice`` posts ``@Support text`` in #general with ``files``; the events are delivered."""
    user = next(u for u in rig.fake.users.values() if u.name == "alice")
    post = rig.fake.post_as_user(rig.fake.general.id, user.id, f"{mention()} {text}", thread_ts, files)
    await rig.deliver(post)
    await rig.settle()
    return post


async def test_an_image_a_pdf_and_a_code_file_reach_the_model_and_later_turns_name_them(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    alice = rig.user("alice")
    rig.model.script(
        Reply.text("The screenshot shows a declined card.", tokens_per_second=400),
        Reply.text("It was the first one, screenshot.png.", tokens_per_second=400),
    )
    image = rig.fake.upload(alice.id, "screenshot.png", PNG, "image/png")
    invoice = rig.fake.upload(alice.id, "invoice.pdf", PDF, "application/pdf")
    code = rig.fake.upload(alice.id, "cart.py", CODE, "text/x-python")
    post = await share(rig, "why does checkout fail?", image, invoice, code)

    reply = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(reply[0]) == "The screenshot shows a declined card."
    content = last_user_content(rig, 0)
    kinds = [(b["type"], b.get("source", {}).get("media_type")) for b in content]
    assert kinds == [("text", None), ("image", "image/png"), ("document", "application/pdf"), ("text", None)]
    assert base64.b64decode(content[1]["source"]["data"]) == PNG
    assert base64.b64decode(content[2]["source"]["data"]) == PDF
    assert content[0]["text"] == (
        "alice: why does checkout fail?\n"
        f"[attached: screenshot.png (image/png, {len(PNG)} bytes)]\n"
        f"[attached: invoice.pdf (application/pdf, {len(PDF)} bytes)]\n"
        f"[attached: cart.py (text/x-python, {len(CODE)} bytes)]"
    )
    assert content[3]["text"].startswith("[content of cart.py]\n```\ndef total(items):\n")
    assert "4242 4242 4242 4242" not in content[3]["text"]  # masked like people's text
    # Each download carried the bot token to the fake's file host (the origin of SLACK_API_URL).
    assert {r.authorization for r in rig.fake.file_requests} == {f"Bearer {rig.fake.bot_token}"}
    assert len(rig.fake.file_requests) == 3

    # A follow-up in the thread: the files are named in the history, not sent again or downloaded again.
    follow_up = rig.fake.post_as_user(rig.fake.general.id, alice.id, "which file was it?", post.ts)
    await rig.deliver(follow_up)
    await rig.settle()
    later = rig.model.message_requests[1].body["messages"]
    assert [b["type"] for m in later for b in m["content"]] == ["text", "text", "text"]
    assert "[attached: screenshot.png (image/png" in later[0]["content"][0]["text"]
    assert len(rig.fake.file_requests) == 3
    rig.model.assert_clean()


async def test_too_big_and_unsupported_files_are_skipped_with_a_note(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    alice = rig.user("alice")
    rig.model.script(Reply.text("I could read the log only.", tokens_per_second=400))
    huge = rig.fake.upload(alice.id, "scan.png", PNG, "image/png", size=12_000_000)
    archive = rig.fake.upload(alice.id, "logs.zip", b"PK\x03\x04" + bytes(20), "application/zip")
    fake_pdf = rig.fake.upload(alice.id, "report.pdf", b"<html>not a pdf</html>", "application/pdf")
    log = rig.fake.upload(alice.id, "error.log", b"ERROR checkout: card declined (code 51)\n", "text/plain")
    liar = rig.fake.upload(alice.id, "tiny.gif", b"GIF89a" + bytes(4_000_000), "image/gif", size=100)
    gone = rig.fake.upload(alice.id, "gone.txt", b"deleted meanwhile", "text/plain")
    del rig.fake.files[gone.id]  # the file host answers 404
    await share(rig, "here are my files", huge, archive, fake_pdf, liar, gone, log)

    content = last_user_content(rig, 0)
    assert [b["type"] for b in content] == ["text"] * 7  # nothing went as an image or a document
    assert "[tiny.gif was not read: the download failed (larger than 3.6 MB)]" in texts(content)
    notes = texts(content)
    assert "[scan.png was not read: it is too big (11.4 MB; the limit is 3.6 MB)]" in notes
    assert "[logs.zip was not read: the type application/zip cannot be read]" in notes
    assert "[report.pdf was not read: its content is not what its type says]" in notes
    assert "[gone.txt was not read: the download failed (HTTP 404)]" in notes
    assert "[error.log was not read: only 5 files are read per message]" in notes
    downloaded = sorted(r.path.rsplit("/", 1)[-1] for r in rig.fake.file_requests)
    # The too big, the unreadable and the sixth are never downloaded.
    assert downloaded == ["gone.txt", "report.pdf", "tiny.gif"]
    rig.model.assert_clean()


async def test_a_file_shared_with_no_text_in_a_dm_is_answered_about_the_file(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    ann = rig.user("ann")
    rig.model.script(Reply.text("That is a checkout error screen.", tokens_per_second=400))
    dm = rig.fake.add_dm(ann.id)
    image = rig.fake.upload(ann.id, "error.png", PNG, "image/png")
    await rig.deliver(rig.fake.post_as_user(dm.id, ann.id, "", files=[image]))
    await rig.settle()

    assert [section_text(m) for m in rig.bot_messages(dm.id)] == ["That is a checkout error screen."]
    content = last_user_content(rig, 0)
    assert content[0]["text"] == f"ann: [attached: error.png (image/png, {len(PNG)} bytes)]"
    assert content[1]["type"] == "image"
    rig.model.assert_clean()


async def test_the_token_goes_only_to_the_file_host_and_never_across_a_redirect_to_another_host(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    alice = rig.user("alice")
    rig.model.script(
        Reply.text("Got the first screenshot.", tokens_per_second=400),
        Reply.text("Got the second screenshot.", tokens_per_second=400),
    )
    async with FileHost(rig.fake.files) as cdn:
        # The file host sends the download to another host (a CDN): that one gets no token.
        rig.fake.redirect_files(cdn.base_url)
        first = rig.fake.upload(alice.id, "one.png", PNG, "image/png")
        await share(rig, "first", first)
        assert [r.authorization for r in rig.fake.file_requests] == [f"Bearer {rig.fake.bot_token}"]
        assert [r.path for r in cdn.requests] == [
            f"/files-tmb/{rig.fake.team_id}-{first.id}/download/one.png"
        ]
        assert cdn.authorizations == []
        assert last_user_content(rig, 0)[1]["type"] == "image"  # the CDN served it without the token

        # A redirect that stays on the file host keeps the token (the file host needs it there too).
        rig.fake.redirect_files(rig.fake.base_url)
        second = rig.fake.upload(alice.id, "two.png", PNG, "image/png")
        await share(rig, "second", second)
        assert [r.authorization for r in rig.fake.file_requests[1:]] == [f"Bearer {rig.fake.bot_token}"] * 2
        assert last_user_content(rig, 1)[1]["type"] == "image"
        assert cdn.authorizations == []
    rig.model.assert_clean()


async def test_a_file_whose_address_is_not_on_the_file_host_is_not_downloaded(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    alice = rig.user("alice")
    rig.model.script(Reply.text("I could not open it.", tokens_per_second=400))
    async with FileHost(rig.fake.files) as elsewhere:
        image = rig.fake.upload(alice.id, "pic.png", PNG, "image/png")
        post = rig.fake.post_as_user(rig.fake.general.id, alice.id, f"{mention()} look", files=[image])
        for event in (post.message_event, post.app_mention_event):
            assert event is not None
            for file in event["files"]:  # an address on another host than Slack's
                file["url_private"] = file["url_private_download"] = (
                    f"{elsewhere.base_url}/files-pri/x-y/pic.png"
                )
        await rig.deliver(post)
        await rig.settle()
        assert elsewhere.requests == []
    assert "[pic.png was not read: the download failed (not on Slack's file host)]" in texts(
        last_user_content(rig, 0)
    )
    rig.model.assert_clean()


async def test_a_message_s_files_together_stay_within_the_message_limit(wall_clock_slack: FakeSlack) -> None:
    """The per-message limit counts the bytes downloaded, so a file that under-reports its size stops at
    what is left of it."""
    fake = wall_clock_slack
    alice = fake.add_user(name="alice")
    first = fake.upload(alice.id, "a.png", PNG, "image/png")
    second = fake.upload(alice.id, "b.png", PNG, "image/png")
    liar = fake.upload(alice.id, "c.txt", b"x" * 200, "text/plain", size=10)
    post = fake.post_as_user(fake.general.id, alice.id, "three", files=[first, second, liar])
    async with aiohttp.ClientSession() as session:
        files = SlackFiles(
            session, fake.bot_token, fake.api_url, limits=FileLimits(message_bytes=len(PNG) + 50)
        )
        blocks = await files.blocks(files_of(post.message_event))
    assert blocks[0]["type"] == "image"
    assert blocks[1]["text"] == "[b.png was not read: the files read for this answer together are too big]"
    assert blocks[2]["text"] == "[c.txt was not read: the download failed (larger than 50 bytes)]"


async def test_a_file_the_model_refused_is_said_and_the_thread_goes_on_without_it(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    alice = rig.user("alice")
    rig.model.script(
        Reply.status(400, message="The PDF specified was not valid."),
        Reply.text("Without the file: error 51 means the bank declined the card.", tokens_per_second=400),
    )
    broken = rig.fake.upload(alice.id, "statement.pdf", b"%PDF-1.7 encrypted", "application/pdf")
    post = await share(rig, "what does this say?", broken)
    await rig.deliver(rig.fake.post_as_user(rig.fake.general.id, alice.id, "it says error 51", post.ts))
    await rig.settle()

    refused, answered = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(refused) == f"_{REJECTED_IMAGE_NOTICE}_"
    assert section_text(answered) == "Without the file: error 51 means the bank declined the card."
    assert len(rig.model.message_requests) == 2
    second = rig.model.message_requests[1]
    assert [b["type"] for b in last_user_content(rig, 0)] == ["text", "document"]
    assert all(b["type"] == "text" for m in second.body["messages"] for b in m["content"])
    assert "[attached: statement.pdf (application/pdf" in second.body["messages"][0]["content"][0]["text"]
    assert len(rig.fake.file_requests) == 1  # not downloaded again
    rig.model.assert_clean()


async def test_in_a_thread_read_from_slack_earlier_files_are_named_and_the_new_one_is_read(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    alice, bob = rig.user("alice"), rig.user("bob")
    rig.model.script(Reply.text("The new log shows the card was declined.", tokens_per_second=400))
    old = rig.fake.upload(bob.id, "old.png", PNG, "image/png")
    parent = rig.fake.post_as_user(rig.fake.general.id, bob.id, "checkout is broken", files=[old])
    log = rig.fake.upload(alice.id, "new.log", b"ERROR card declined\n", "text/plain")
    post = rig.fake.post_as_user(rig.fake.general.id, alice.id, f"{mention()} same here", parent.ts, [log])
    await rig.deliver(post)
    await rig.settle()

    assert len(rig.fake.calls("conversations.replies")) == 1  # the bot had not seen the thread
    messages = rig.model.message_requests[0].body["messages"]
    blocks = [b for m in messages for b in m["content"]]
    assert blocks[0]["text"] == (
        f"bob: checkout is broken\n[attached: old.png (image/png, {len(PNG)} bytes)]\n\n"
        f"alice: same here\n[attached: new.log (text/plain, 20 bytes)]"
    )
    assert [b["type"] for b in blocks] == ["text", "text"]  # the earlier image is only named
    assert blocks[1]["text"] == "[content of new.log]\n```\nERROR card declined\n```"
    assert [r.path.rsplit("/", 1)[-1] for r in rig.fake.file_requests] == ["new.log"]
    rig.model.assert_clean()


async def test_a_sign_in_page_instead_of_the_file_is_a_failed_download(wall_clock_slack: FakeSlack) -> None:
    """What Slack's file host answers a token that may not read the file (e.g. one without files:read)."""
    fake = wall_clock_slack
    alice = fake.add_user(name="alice")
    post = fake.post_as_user(
        fake.general.id, alice.id, "x", files=[fake.upload(alice.id, "a.png", PNG, "image/png")]
    )
    async with aiohttp.ClientSession() as session:
        blocks = await SlackFiles(session, "xoxb-other", fake.api_url).blocks(files_of(post.message_event))
    assert blocks == [
        {
            "type": "text",
            "text": "[a.png was not read: the download failed (Slack answered with a page, not the file)]",
        }
    ]
