"""The Discord budgets tuned from headers, discord.py's errors as the core's, who is asking, and the
cache of downloaded attachments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from fakes.discord import FakeDiscord, discord_client_against

from bot.cache import TTLCache
from bot.config import DiscordRoles, PlatformFacts
from bot.store import Store
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.streaming.budget import Priority
from bot.streaming.protocol import DeliveryError, MessageGone, RateLimited, ReplyLimits
from bot.types import Role
from integrations.discord.app import Endpoints, intents
from integrations.discord.budgets import SLACK, DiscordBudgets, tuned
from integrations.discord.history import MAX_CACHED_FILE_BYTES
from integrations.discord.principals import PrincipalResolver
from integrations.discord.stream import Destination, DiscordReplyStream, Refused, delivery_error
from tests.recording_stream import FakeClock

FACTS = PlatformFacts(max_message_chars=1900, edits_per_minute=40, edit_burst=1, posts_per_second=0.8)


def headers(limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
    }


async def test_budgets_start_from_the_config_and_follow_the_headers() -> None:
    budgets = DiscordBudgets(FACTS)
    edits, posts = budgets.edits("10"), budgets.posts("10")
    assert (edits.rate, edits.burst, posts.rate, posts.burst) == (40 / 60, 1, 0.8, 1)
    assert budgets.limits.max_chars == 1900 and not budgets.limits.placeholder

    await budgets.observe("PATCH", "/api/v10/channels/10/messages/11", 200, headers(5, 4, 5.0))
    assert edits.rate == pytest.approx(4 / (5 * (1 + SLACK))) and edits.burst == 1
    await budgets.observe("PATCH", "/api/v10/channels/10/messages/11", 200, headers(5, 2, 1.2))
    assert edits.rate == pytest.approx(4 / 5.5)  # a window's tail does not shorten the window
    await budgets.observe("POST", "/api/v10/channels/10/messages", 200, headers(10, 9, 2.0))
    assert posts.rate == pytest.approx(9 / 2.2) and budgets.edits("12").rate == 40 / 60  # per channel
    await budgets.observe("GET", "/api/v10/channels/10/messages", 200, headers(1, 0, 60.0))
    await budgets.observe("POST", "/api/v10/channels/10/typing", 200, headers(1, 0, 60.0))
    assert posts.rate == pytest.approx(9 / 2.2)
    assert tuned(1, 1.0) == (1 / 1.1, 1)  # one call per window: one, a little slower


async def test_a_429_on_a_channel_pauses_its_budget_but_a_global_one_does_not() -> None:
    clock = FakeClock()
    budgets = DiscordBudgets(FACTS, clock=clock)
    edits = budgets.edits("10")
    await edits.acquire(Priority.FINAL)  # the one permit of the burst
    await budgets.observe("PATCH", "/api/v10/channels/10/messages/11", 429, {"Retry-After": "3"})
    started = clock.monotonic()
    await edits.acquire(Priority.FINAL)
    assert clock.monotonic() - started >= 3.0
    posts = budgets.posts("20")
    await budgets.observe(
        "POST", "/api/v10/channels/20/messages", 429, {"Retry-After": "9", "X-RateLimit-Global": "true"}
    )
    started = clock.monotonic()
    await posts.acquire(Priority.FINAL)
    assert clock.monotonic() - started < 1.0


def http_error(status: int, code: int, *, headers: dict[str, str] | None = None) -> discord.HTTPException:
    response: Any = SimpleNamespace(status=status, reason="", headers=headers or {})
    return discord.HTTPException(response, {"message": "refused", "code": code})


def test_discord_errors_become_the_cores() -> None:
    limited = delivery_error(http_error(429, 0, headers={"Retry-After": "2"}), "edit", editing=True)
    assert isinstance(limited, RateLimited) and limited.retry_after == 2.0
    assert isinstance(delivery_error(discord.RateLimited(40.0), "edit", editing=True), RateLimited)
    for code in (10008, 10003, 50005, 50083):
        status = 403 if code == 50005 else 404 if code < 20000 else 400
        assert isinstance(delivery_error(http_error(status, code), "edit", editing=True), MessageGone)
    gone_post = delivery_error(http_error(404, 10003), "post", editing=False)
    assert isinstance(gone_post, Refused) and not gone_post.retryable
    server = delivery_error(http_error(503, 0), "edit", editing=True)
    assert type(server) is DeliveryError and server.retryable
    assert isinstance(delivery_error(http_error(403, 50013), "post", editing=False), Refused)
    assert type(delivery_error(TimeoutError(), "post", editing=False)) is DeliveryError


class SlowToStopTyping:
    """A channel whose typing request, once cancelled, takes a while to wind down (an aborted HTTP call on a
    busy event loop)."""

    def __init__(self) -> None:
        self.typing_calls = 0
        self.release = asyncio.Event()
        self.stopped = asyncio.Event()
        self.sent: list[str] = []

    async def typing(self) -> None:
        self.typing_calls += 1
        try:
            await asyncio.Event().wait()  # the request under way
        except asyncio.CancelledError:
            await self.release.wait()
            self.stopped.set()
            raise

    async def send(self, text: str, **kwargs: Any) -> SimpleNamespace:
        self.sent.append(text)
        return SimpleNamespace(id=7)


async def test_the_first_text_does_not_wait_for_the_typing_indicator_to_stop() -> None:
    channel = SlowToStopTyping()
    stream = DiscordReplyStream(Destination(channel), limits=ReplyLimits(1900, 1.0, placeholder=False))  # type: ignore[arg-type]
    stream.start_typing()
    await asyncio.sleep(0)
    assert channel.typing_calls == 1

    assert await asyncio.wait_for(stream.post("The parcel left on Monday."), 1.0) == "7"
    assert channel.sent == ["The parcel left on Monday."] and not channel.stopped.is_set()

    channel.release.set()
    await stream.close()  # the indicator has stopped by the time the reply is done, and typed only once
    assert channel.stopped.is_set() and channel.typing_calls == 1


def test_endpoints_are_set_only_when_they_differ_and_put_back() -> None:
    route, socket = discord.http.Route, discord.gateway.DiscordWebSocket
    before = (route.BASE, socket.DEFAULT_GATEWAY)
    defaults = Endpoints("https://discord.com/api/v10", "wss://gateway.discord.gg/")
    defaults.apply()
    assert before == (route.BASE, socket.DEFAULT_GATEWAY)
    proxy = Endpoints("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/")
    proxy.apply()
    assert route.BASE == "http://127.0.0.1:9/api/v10" and str(socket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/"
    proxy.restore()
    assert before == (route.BASE, socket.DEFAULT_GATEWAY)
    assert (
        intents().value
        == discord.Intents(guilds=True, guild_messages=True, message_content=True, dm_messages=True).value
    )


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = await SQLiteStore.open(MEMORY)
    yield opened
    await opened.close()


class Watcher(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=intents(), guild_ready_timeout=0.05)
        self.received: list[discord.Message] = []

    async def on_message(self, message: discord.Message) -> None:
        self.received.append(message)


async def test_members_leads_admins_and_people_in_dms(fake_discord: FakeDiscord, store: Store) -> None:
    fake = fake_discord
    await store.link_identity("discord", str(fake.alice.id), "C-1001")
    client = Watcher()
    async with discord_client_against(fake, client):
        people = PrincipalResolver(client, store, DiscordRoles(lead_role_ids=(str(fake.lead_role.id),)))
        for member in (fake.alice, fake.lead, fake.admin):
            await fake.post_as_user(fake.support, member, "hello")
        await fake.dm(fake.lead, "hi from a DM")
        await fake.wait_for(lambda: len(client.received) == 4, what="four messages")
        alice, lead, admin, dm = [await people.resolve(m.author) for m in client.received]
        assert (alice.roles, alice.customer_id, alice.display_name) == (
            frozenset({Role.CUSTOMER}),
            "C-1001",
            "alice",
        )
        assert lead.roles == {Role.LEAD} and lead.display_name == "Team Lead" and lead.is_staff
        assert admin.roles == {Role.ADMIN} and admin.is_lead
        assert dm.roles == {Role.LEAD}  # found in the guild that holds the lead role
        assert len(fake.calls("GET", "/guilds/{guild_id}/members/{user_id}")) == 1
        await people.resolve(client.received[3].author)
        assert len(fake.calls("GET", "/guilds/{guild_id}/members/{user_id}")) == 1  # kept a while

        # A guild without the configured lead role is not trusted: its administrators are customers there.
        elsewhere = PrincipalResolver(client, store, DiscordRoles(lead_role_ids=("1573870000000000999",)))
        assert (await elsewhere.resolve(client.received[2].author)).roles == {Role.CUSTOMER}
        anyone = PrincipalResolver(client, store, DiscordRoles())
        assert (await anyone.resolve(client.received[2].author)).roles == {Role.ADMIN}


def test_the_downloaded_attachments_kept_stay_within_their_bytes() -> None:
    """The history keeps downloaded files by their bytes together: the oldest go first to make room, and a
    file bigger than the whole allowance is not kept."""
    now = [0.0]
    cache: TTLCache[int, bytes] = TTLCache(
        3600.0, 500, lambda: now[0], weigh=len, max_weight=MAX_CACHED_FILE_BYTES
    )
    third = MAX_CACHED_FILE_BYTES // 3
    for key in range(3):
        cache.put(key, bytes(third))
    cache.put(3, bytes(third))
    assert [cache.get(key) is not None for key in range(4)] == [False, True, True, True]
    cache.put(4, bytes(MAX_CACHED_FILE_BYTES + 1))
    assert cache.get(4) is None and cache.get(3) is not None
    cache.put(2, bytes(third))  # replacing an entry frees its bytes first (and makes it the newest)
    assert [cache.get(key) is not None for key in (1, 2, 3)] == [True, True, True]
    cache.put(5, b"small")  # the three thirds leave no room: the oldest goes
    assert [cache.get(key) is not None for key in (1, 2, 3, 5)] == [False, True, True, True]
    now[0] = 3600.0
    assert cache.get(5) is None
