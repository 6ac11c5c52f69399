"""Self-tests of the fake Slack: everything goes through the real slack_sdk and slack_bolt."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from .http_server import serve
from .slack import (
    APP_TOKEN,
    BOT_ID,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    ManualClock,
    SlackLimits,
    app_mention_event,
    block_actions_payload,
    fake_slack,
    mention,
    message_event,
    slack_signature,
)

__all__ = ["fake_slack"]  # the fixture, re-exported so pytest finds it in this module


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def api_error(call: Awaitable[Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# ---------------------------------------------------------------------------------------- Web API


async def test_post_update_and_read_back(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    assert fake_slack.api_url.endswith("/api/")
    alice = fake_slack.add_user(name="alice")
    channel = fake_slack.general.id
    question = fake_slack.post_as_user(channel, alice.id, f"{mention()} where is ORD-10001?")

    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (BOT_USER_ID, BOT_ID, TEAM_ID)

    posted = await client.chat_postMessage(
        channel=channel, thread_ts=question.ts, text="thinking…", unfurl_links=False
    )
    assert posted["channel"] == channel
    assert posted["message"]["thread_ts"] == question.ts
    assert posted["message"]["bot_id"] == BOT_ID
    reply_ts = posted["ts"]
    assert float(reply_ts) > float(question.ts)

    updated = await client.chat_update(
        channel=channel, ts=reply_ts, text="ORD-10001 shipped", blocks=[section("*ORD-10001* shipped")]
    )
    assert updated["message"]["edited"]["user"] == BOT_USER_ID
    # Leaving ``blocks`` out keeps the old blocks, as Slack does.
    await client.chat_update(channel=channel, ts=reply_ts, text="fallback only")
    assert fake_slack.visible_text(channel, reply_ts) == "*ORD-10001* shipped"

    replies = await client.conversations_replies(channel=channel, ts=question.ts)
    messages = replies["messages"]
    assert [m["ts"] for m in messages] == [question.ts, reply_ts]
    assert messages[0]["reply_count"] == 1 and messages[0]["reply_users"] == [BOT_USER_ID]
    assert messages[1]["text"] == "fallback only"
    assert messages[1]["parent_user_id"] == alice.id

    message = fake_slack.message(channel, reply_ts)
    assert message.unfurl_links is False
    assert message.update_count == 2
    assert message.versions == ["thinking…", "*ORD-10001* shipped", "*ORD-10001* shipped"]
    assert [m.ts for m in fake_slack.thread(channel, question.ts)] == [question.ts, reply_ts]
    assert [c.method for c in fake_slack.calls()] == [
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.update",
        "conversations.replies",
    ]
    assert fake_slack.calls("chat.update")[0].args["blocks"][0]["type"] == "section"


async def test_thread_replies_paginate_with_a_cursor(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    alice = fake_slack.add_user(name="alice")
    channel = fake_slack.general.id
    parent = fake_slack.post_as_user(channel, alice.id, "a long thread").ts
    reply_ts = [
        fake_slack.post_as_user(channel, alice.id, f"reply {i}", thread_ts=parent).ts for i in range(7)
    ]

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        page = await client.conversations_replies(channel=channel, ts=parent, limit=3, cursor=cursor)
        pages += 1
        assert page["messages"][0]["ts"] == parent  # the parent heads every page
        seen += [m["ts"] for m in page["messages"] if m["ts"] not in seen]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert seen == [parent, *reply_ts]
    assert pages == 4

    # A reply's ts fetches its whole thread; a bad cursor is refused.
    whole = await client.conversations_replies(channel=channel, ts=reply_ts[3])
    assert len(whole["messages"]) == 8
    error = await api_error(client.conversations_replies(channel=channel, ts=parent, cursor="bogus"))
    assert error.response["error"] == "invalid_cursor"


async def test_dm_history_users_groups_status_reactions() -> None:
    async with FakeSlack(replies_parent_on_every_page=False) as fake:
        client = fake.client()
        bob = fake.add_user(name="bob", real_name="Bob Smith", display_name="bobby", email="b@x.test")
        guest = fake.add_user(name="gina", external=True, is_stranger=True)
        dm = fake.add_dm(bob.id)
        sent = [fake.post_as_user(dm.id, bob.id, f"dm {i}") for i in range(5)]
        assert sent[0].event["channel_type"] == "im" and sent[0].app_mention_event is None

        history = await client.conversations_history(channel=dm.id, limit=2)
        assert [m["text"] for m in history["messages"]] == ["dm 4", "dm 3"]
        older = await client.conversations_history(
            channel=dm.id, limit=10, cursor=history["response_metadata"]["next_cursor"]
        )
        assert [m["text"] for m in older["messages"]] == ["dm 2", "dm 1", "dm 0"]
        assert older["has_more"] is False
        since = await client.conversations_history(channel=dm.id, oldest=sent[2].ts)
        assert [m["text"] for m in since["messages"]] == ["dm 4", "dm 3"]

        info = await client.conversations_info(channel=dm.id)
        assert info["channel"]["is_im"] is True and info["channel"]["user"] == bob.id
        user = (await client.users_info(user=bob.id))["user"]
        assert (user["real_name"], user["profile"]["display_name"], user["is_bot"]) == (
            "Bob Smith",
            "bobby",
            False,
        )
        stranger = (await client.users_info(user=guest.id))["user"]
        assert stranger["team_id"] != TEAM_ID and stranger["is_stranger"] is True
        assert guest.is_external(TEAM_ID)
        assert (await client.users_info(user=BOT_USER_ID))["user"]["is_bot"] is True
        assert (await api_error(client.users_info(user="UNOPE"))).response["error"] == "user_not_found"

        group = fake.add_usergroup([bob.id, guest.id])
        listed = await client.usergroups_users_list(usergroup=group)
        assert listed["users"] == [bob.id, guest.id]

        # Posting to a user id lands in the DM; the status clears when the bot replies in the thread.
        await client.assistant_threads_setStatus(channel_id=dm.id, thread_ts=sent[4].ts, status="is typing…")
        assert fake.assistant_status(dm.id, sent[4].ts) == "is typing…"
        answer = await client.chat_postMessage(channel=bob.id, thread_ts=sent[4].ts, text="hello")
        assert answer["channel"] == dm.id
        assert fake.assistant_status(dm.id, sent[4].ts) is None
        assert [s.status for s in fake.assistant_statuses] == ["is typing…"]

        await client.reactions_add(channel=dm.id, timestamp=sent[0].ts, name="eyes")
        assert fake.message(dm.id, sent[0].ts).reactions == {"eyes": [BOT_USER_ID]}
        again = await api_error(client.reactions_add(channel=dm.id, timestamp=sent[0].ts, name="eyes"))
        assert again.response["error"] == "already_reacted"

        link = await client.chat_getPermalink(channel=dm.id, message_ts=answer["ts"])
        assert link["permalink"].endswith(f"?thread_ts={sent[4].ts}&cid={dm.id}")
        ephemeral = await client.chat_postEphemeral(channel=dm.id, user=bob.id, text="only you")
        assert ephemeral["message_ts"]
        assert [(e.user, e.text) for e in fake.ephemerals] == [(bob.id, "only you")]

        replies = await client.conversations_replies(channel=dm.id, ts=sent[4].ts, limit=1)
        assert [m["ts"] for m in replies["messages"]] == [sent[4].ts]
        rest = await client.conversations_replies(
            channel=dm.id, ts=sent[4].ts, cursor=replies["response_metadata"]["next_cursor"]
        )
        assert [m["ts"] for m in rest["messages"]] == [answer["ts"]]  # no parent on later pages here


async def test_message_size_and_ownership_errors(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    channel = fake_slack.general.id
    alice = fake_slack.add_user(name="alice")
    theirs = fake_slack.post_as_user(channel, alice.id, "human text").ts
    ours = (await client.chat_postMessage(channel=channel, text="x"))["ts"]

    too_long = await api_error(client.chat_update(channel=channel, ts=ours, text="a" * 4001))
    assert too_long.response["error"] == "msg_too_long"
    await client.chat_update(channel=channel, ts=ours, text="a" * 4000)

    blocks_error = await api_error(
        client.chat_update(channel=channel, ts=ours, text="t", blocks=[section("b" * 3001)])
    )
    assert blocks_error.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in blocks_error.response["errors"][0]
    await client.chat_update(channel=channel, ts=ours, text="t", blocks=[section("b" * 3000)])
    assert fake_slack.visible_text(channel, ours) == "b" * 3000

    not_ours = await api_error(client.chat_update(channel=channel, ts=theirs, text="hijack"))
    assert not_ours.response["error"] == "cant_update_message"
    missing = await api_error(client.chat_update(channel=channel, ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"
    nowhere = await api_error(client.chat_postMessage(channel="CNOPE", text="x"))
    assert nowhere.response["error"] == "channel_not_found"
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        empty = await api_error(client.chat_postMessage(channel=channel, text=""))
    assert empty.response["error"] == "no_text"
    assert fake_slack.visible_text(channel, theirs) == "human text"


async def test_auth_and_unknown_method(fake_slack: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.api_url)
    assert (await api_error(wrong.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=fake_slack.api_url)
    assert (await api_error(anonymous.auth_test())).response["error"] == "not_authed"
    client = fake_slack.client()
    assert (await api_error(client.api_call("chat.nonsense"))).response["error"] == "unknown_method"
    # A form-encoded call with the token in the body also works, as it does on Slack.
    form = AsyncWebClient(base_url=fake_slack.api_url)
    ok = await form.api_call("auth.test", data={"token": fake_slack.bot_token})
    assert ok["user_id"] == BOT_USER_ID
    assert fake_slack.calls("auth.test")[-1].content_type == "application/x-www-form-urlencoded"


# ---------------------------------------------------------------------------------------- rate limits


async def test_second_post_in_one_second_in_one_channel_gets_429() -> None:
    clock = ManualClock()
    limits = SlackLimits(post_message_per_second=1.0, post_message_burst=1)
    async with FakeSlack(limits=limits, clock=clock) as fake:
        client = fake.client()
        other = fake.add_channel(name="other")
        await client.chat_postMessage(channel=fake.general.id, text="one")
        error = await api_error(client.chat_postMessage(channel=fake.general.id, text="two"))
        assert error.response.status_code == 429
        assert error.response["error"] == "ratelimited"
        assert int(error.response.headers["Retry-After"]) == 1
        assert fake.rate_limited_count == 1
        await client.chat_postMessage(channel=other.id, text="another channel is fine")
        clock.advance(1.0)
        await client.chat_postMessage(channel=fake.general.id, text="two, a second later")
        assert [m.text for m in fake.messages(fake.general.id)] == ["one", "two, a second later"]


async def test_default_burst_then_one_per_second(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    burst = fake_slack.limits.post_message_burst
    for i in range(burst):
        await client.chat_postMessage(channel=fake_slack.general.id, text=f"burst {i}")
    error = await api_error(client.chat_postMessage(channel=fake_slack.general.id, text="over"))
    assert error.response.status_code == 429 and int(error.response.headers["Retry-After"]) >= 1


async def test_chat_update_budget_is_shared_by_the_workspace() -> None:
    clock = ManualClock()
    limits = SlackLimits(update_limit=3, update_window=60.0)
    async with FakeSlack(limits=limits, clock=clock) as fake:
        client = fake.client()
        other = fake.add_channel(name="other")
        first = (await client.chat_postMessage(channel=fake.general.id, text="a"))["ts"]
        second = (await client.chat_postMessage(channel=other.id, text="b"))["ts"]
        await client.chat_update(channel=fake.general.id, ts=first, text="a1")
        clock.advance(10)
        await client.chat_update(channel=other.id, ts=second, text="b1")
        await client.chat_update(channel=fake.general.id, ts=first, text="a2")
        error = await api_error(client.chat_update(channel=other.id, ts=second, text="b2"))
        assert error.response.status_code == 429
        assert int(error.response.headers["Retry-After"]) == 50  # the oldest call leaves the window
        assert fake.visible_text(other.id, second) == "b1"
        clock.advance(50)
        await client.chat_update(channel=other.id, ts=second, text="b2")
        assert fake.visible_text(other.id, second) == "b2"
        assert fake.rate_limited_count == 1
        assert [c.status for c in fake.calls("chat.update")] == [200, 200, 200, 429, 200]


async def test_each_workspace_of_an_install_has_its_own_chat_update_budget() -> None:
    clock = ManualClock()
    async with FakeSlack(limits=SlackLimits(update_limit=2, update_window=60.0), clock=clock) as fake:
        client = fake.client()
        elsewhere = fake.add_channel(name="elsewhere", team_id="T0OTHER")
        seen: list[tuple[str, str]] = []
        fake.message_listeners.append(lambda method, message: seen.append((method, message.team or "")))
        here_ts = (await client.chat_postMessage(channel=fake.general.id, text="a"))["ts"]
        there_ts = (await client.chat_postMessage(channel=elsewhere.id, text="b"))["ts"]
        for n in range(2):
            await client.chat_update(channel=fake.general.id, ts=here_ts, text=f"a{n}")
            await client.chat_update(channel=elsewhere.id, ts=there_ts, text=f"b{n}")
        for channel, ts in ((fake.general.id, here_ts), (elsewhere.id, there_ts)):
            error = await api_error(client.chat_update(channel=channel, ts=ts, text="over"))
            assert error.response.status_code == 429
        assert fake.rate_limited_count == 2
        assert seen[:2] == [("chat.postMessage", fake.team_id), ("chat.postMessage", "T0OTHER")]
        assert [method for method, _ in seen[2:]] == ["chat.update"] * 4


async def test_replies_limit_for_restricted_app_types() -> None:
    async with FakeSlack(limits=SlackLimits(replies_limit=1), clock=ManualClock()) as fake:
        client = fake.client()
        alice = fake.add_user(name="alice")
        ts = fake.post_as_user(fake.general.id, alice.id, "q").ts
        await client.conversations_replies(channel=fake.general.id, ts=ts)
        error = await api_error(client.conversations_replies(channel=fake.general.id, ts=ts))
        assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "60"


async def test_injected_failures(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    channel = fake_slack.general.id
    ts = (await client.chat_postMessage(channel=channel, text="start"))["ts"]

    fake_slack.fail_next("chat.update", status=500, times=2)
    fake_slack.fail_next("chat.update", error="cant_update_message")
    for _ in range(2):
        error = await api_error(client.chat_update(channel=channel, ts=ts, text="lost"))
        assert error.response.status_code == 500
    error = await api_error(client.chat_update(channel=channel, ts=ts, text="lost"))
    assert (error.response.status_code, error.response["error"]) == (200, "cant_update_message")
    await client.chat_update(channel=channel, ts=ts, text="kept")
    assert fake_slack.visible_text(channel, ts) == "kept"
    assert [c.injected for c in fake_slack.calls("chat.update")] == [True, True, True, False]

    # slack_sdk does not retry a 429 by default: the caller sees it.
    fake_slack.fail_next("chat.update", status=429, retry_after=7)
    error = await api_error(client.chat_update(channel=channel, ts=ts, text="later"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "7"
    assert fake_slack.rate_limited_count == 1

    # With a rate-limit retry handler it waits Retry-After (+ up to 1 s of jitter) and retries.
    retrying = fake_slack.client(retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    fake_slack.fail_next("chat.update", status=429, retry_after=0)
    await retrying.chat_update(channel=channel, ts=ts, text="after retry")
    assert fake_slack.visible_text(channel, ts) == "after retry"
    assert [c.status for c in fake_slack.calls("chat.update")[-2:]] == [429, 200]

    # ``apply=True``: the edit took effect though the client saw an error.
    fake_slack.fail_next("chat.update", status=500, apply=True)
    await api_error(client.chat_update(channel=channel, ts=ts, text="applied anyway"))
    assert fake_slack.visible_text(channel, ts) == "applied anyway"
    with pytest.raises(ValueError):
        fake_slack.fail_next("chat.update")


# ---------------------------------------------------------------------------------------- Events API


async def test_signed_requests_verify_with_slack_sdk() -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def capture(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", capture)
    verifier = SignatureVerifier(SIGNING_SECRET)
    async with serve(app) as base, FakeSlack() as fake:
        sender = fake.event_sender(f"{base}/slack/events")
        alice = fake.add_user(name="alice")
        post = fake.post_as_user(fake.general.id, alice.id, f"{mention()} hi")
        assert post.app_mention_event is not None and post.event["type"] == "app_mention"

        status, _ = await sender.send_event(post.event)
        assert status == 200
        envelope = sender.envelope(post.message_event)
        await sender.send_envelope(envelope, retry_num=1)
        await sender.send_slash_command("/support", "stats", user_id=alice.id, channel_id=fake.general.id)
        await sender.send_interaction(
            block_actions_payload(
                user_id=alice.id, channel_id=fake.general.id, message_ts=post.ts, action_id="escalate"
            )
        )
        stamp = int(time.time())
        await sender.send_event(post.event, timestamp=stamp, signature="v0=forged")

    assert len(received) == 5
    for body, headers in received[:4]:
        assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(*received[4])

    event_body = json.loads(received[0][0])
    assert event_body["type"] == "event_callback"
    assert event_body["event"]["type"] == "app_mention"
    assert event_body["authorizations"][0]["user_id"] == BOT_USER_ID
    assert {"token", "team_id", "api_app_id", "event_id", "event_time"} <= event_body.keys()
    assert "X-Slack-Retry-Num" not in received[0][1]
    assert received[1][1]["X-Slack-Retry-Num"] == "1"
    assert received[1][1]["X-Slack-Retry-Reason"] == "http_timeout"
    assert json.loads(received[1][0])["event_id"] == envelope["event_id"]

    slash = parse_qs(received[2][0].decode())
    assert slash["command"] == ["/support"] and slash["text"] == ["stats"]
    assert slash["response_url"][0].startswith("http://127.0.0.1:")
    interaction = json.loads(parse_qs(received[3][0].decode())["payload"][0])
    assert interaction["type"] == "block_actions" and interaction["actions"][0]["action_id"] == "escalate"

    body = b'{"type":"url_verification"}'
    assert verifier.is_valid(body, "1700000000", slack_signature(SIGNING_SECRET, 1700000000, body)) is False
    assert verifier.generate_signature(timestamp="1700000000", body=body) == slack_signature(
        SIGNING_SECRET, 1700000000, body
    )


def test_message_event_variants() -> None:
    changed = message_event(
        channel="C1",
        ts="1700000000.000100",
        user="U1",
        text="new",
        previous_text="old",
        subtype="message_changed",
    )
    assert changed["message"]["text"] == "new" and changed["previous_message"]["text"] == "old"
    assert changed["hidden"] is True and changed["ts"] != "1700000000.000100"
    deleted = message_event(channel="C1", ts="1700000000.000100", subtype="message_deleted")
    assert deleted["deleted_ts"] == "1700000000.000100"
    bot = message_event(channel="C1", text="beep", subtype="bot_message")
    assert "user" not in bot and bot["bot_id"]
    echo = message_event(channel="D1", user=BOT_USER_ID, bot_id=BOT_ID, text="ours", channel_type="im")
    assert echo["bot_id"] == BOT_ID and "subtype" not in echo and echo["channel_type"] == "im"
    join = message_event(channel="C1", user="U2", subtype="channel_join")
    assert join["text"] == "<@U2> has joined the channel"
    threaded = message_event(channel="C1", user="U2", text="hi", ts="1.000100", thread_ts="1.000000")
    assert threaded["thread_ts"] == "1.000000"
    mention_event = app_mention_event(user="U1", text=f"{mention()} hi", channel="C1", ts="1.000200")
    assert mention_event["blocks"][0]["elements"][0]["elements"][0] == {
        "type": "user",
        "user_id": BOT_USER_ID,
    }


async def test_bolt_app_end_to_end(fake_slack: FakeSlack) -> None:
    """A real slack-bolt AsyncApp gets a signed app_mention and answers through the fake."""
    bolt = AsyncApp(client=fake_slack.client(), signing_secret=SIGNING_SECRET)

    @bolt.event("app_mention")
    async def on_mention(event: dict[str, Any], say: AsyncSay) -> None:
        thread = event.get("thread_ts") or event["ts"]
        posted = await say(text="looking…", thread_ts=thread)
        await bolt.client.chat_update(channel=posted["channel"], ts=posted["ts"], text="ORD-10001 shipped")

    @bolt.command("/support")
    async def on_support(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack(f"stats for {command['user_id']}")
        await respond("more later")

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)

    async with serve(app) as base:
        sender = fake_slack.event_sender(f"{base}/slack/events")
        alice = fake_slack.add_user(name="alice")
        channel = fake_slack.general.id

        challenge = await sender.send_url_verification("c-123")
        assert challenge.status == 200 and challenge.json() == {"challenge": "c-123"}

        stray = app_mention_event(user=alice.id, text=f"{mention()} hi", channel=channel, ts="1.000001")
        forged = await sender.send_event(stray, signature="v0=forged")
        assert forged.status == 401

        question = fake_slack.post_as_user(channel, alice.id, f"{mention()} where is ORD-10001?")
        status, _ = await sender.send_event(question.event)
        assert status == 200
        await fake_slack.wait_for_calls("chat.update")
        answers = fake_slack.bot_messages(channel)
        assert len(answers) == 1
        assert answers[0].thread_ts == question.ts
        assert fake_slack.visible_text(channel, answers[0].ts) == "ORD-10001 shipped"
        assert answers[0].versions == ["looking…", "ORD-10001 shipped"]
        assert fake_slack.calls()[0].method == "auth.test"  # bolt's single-workspace authorization

        reply = await sender.send_slash_command("/support", "stats", user_id=alice.id, channel_id=channel)
        assert reply.status == 200 and reply.reply_text() == f"stats for {alice.id}"
        await fake_slack.wait_for(lambda: len(fake_slack.response_url_posts) == 1, what="respond()")
        assert sender.last_response_url is not None
        assert fake_slack.response_posts(sender.last_response_url)[0]["text"] == "more later"
        assert [e.text for e in fake_slack.ephemerals if e.via == "response_url"] == ["more later"]


async def test_socket_mode_through_slack_sdk(fake_slack: FakeSlack) -> None:
    """The real Socket Mode client connects with the app-level token, gets envelopes and acknowledges them."""
    client = fake_slack.client()
    refused = await api_error(client.apps_connections_open(app_token=fake_slack.bot_token))
    assert refused.response["error"] == "not_allowed_token_type"
    app_only = AsyncWebClient(token=APP_TOKEN, base_url=fake_slack.api_url)
    assert (await api_error(app_only.auth_test())).response["error"] == "not_allowed_token_type"

    received: list[SocketModeRequest] = []

    async def listener(socket: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        payload = {"text": "done"} if request.type == "slash_commands" else None
        await socket.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload=payload))

    socket = SocketModeClient(app_token=fake_slack.app_token, web_client=client)
    socket.socket_mode_request_listeners.append(listener)  # type: ignore[arg-type]
    await socket.connect()
    try:
        await fake_slack.wait_for(lambda: fake_slack.socket_connected, what="a Socket Mode connection")
        sender = fake_slack.event_sender("http://unused")
        event = app_mention_event(user="U1", text=f"{mention()} hi", channel="C1", ts="1.000100")
        ack = await fake_slack.send_socket_mode("events_api", sender.envelope(event))
        command = await fake_slack.send_socket_mode("slash_commands", {"command": "/support", "text": "help"})
    finally:
        await socket.close()
    assert ack["envelope_id"] == received[0].envelope_id and "payload" not in ack
    assert received[0].payload["event"]["type"] == "app_mention"
    assert command["payload"] == {"text": "done"} and received[1].type == "slash_commands"
