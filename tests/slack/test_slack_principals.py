"""Who is asking: employees, leads (by id or user group), and customers (Slack Connect, guests, bots)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes.slack import TEAM_ID, FakeSlack

from bot.config import SlackRoles
from bot.store import Store
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import Role
from integrations.slack.principals import PrincipalResolver, TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = await SQLiteStore.open(MEMORY)
    yield opened
    await opened.close()


async def test_a_workspace_member_is_an_employee_named_by_display_name(
    fake_slack: FakeSlack, store: Store
) -> None:
    ann = fake_slack.add_user(name="ann", real_name="Ann Lee", display_name="annie")
    people = PrincipalResolver(fake_slack.client(), store, SlackRoles())
    principal = await people.resolve(ann.id, team_id=TEAM_ID)
    assert (principal.platform, principal.user_id, principal.display_name) == ("slack", ann.id, "annie")
    assert principal.roles == {Role.EMPLOYEE} and principal.is_staff and not principal.is_lead
    nameless = fake_slack.add_user(name="bo", real_name="Bo Ek", display_name="")
    assert (await people.resolve(nameless.id, team_id=TEAM_ID)).display_name == "Bo Ek"


async def test_leads_by_user_id_or_user_group_which_is_cached_briefly(
    fake_slack: FakeSlack, store: Store
) -> None:
    listed, grouped, other = (fake_slack.add_user(name=n) for n in ("listed", "grouped", "other"))
    group = fake_slack.add_usergroup([grouped.id])
    clock = Clock()
    roles = SlackRoles(lead_user_ids=(listed.id,), lead_usergroup_id=group)
    people = PrincipalResolver(fake_slack.client(), store, roles, clock=clock)
    assert (await people.resolve(listed.id, team_id=TEAM_ID)).is_lead
    assert (await people.resolve(grouped.id, team_id=TEAM_ID)).roles == {Role.EMPLOYEE, Role.LEAD}
    assert not (await people.resolve(other.id, team_id=TEAM_ID)).is_lead
    assert len(fake_slack.calls("usergroups.users.list")) == 1

    fake_slack.usergroups[group].append(other.id)
    assert not (await people.resolve(other.id, team_id=TEAM_ID)).is_lead  # still the cached members
    clock.now += 61
    assert (await people.resolve(other.id, team_id=TEAM_ID)).is_lead
    assert len(fake_slack.calls("usergroups.users.list")) == 2
    assert len(fake_slack.calls("users.info")) == 3  # one per user: users.info answers are kept too


async def test_slack_connect_users_guests_and_bots_are_customers_linked_through_the_store(
    fake_slack: FakeSlack, store: Store
) -> None:
    external = fake_slack.add_user(name="ext", external=True)
    stranger = fake_slack.add_user(name="stranger", is_stranger=True)
    guest = fake_slack.add_user(name="guest", is_restricted=True)
    a_bot = fake_slack.add_user(name="ci", is_bot=True, bot_id="B9")
    await store.link_identity("slack", external.id, "C-1001")
    people = PrincipalResolver(fake_slack.client(), store, SlackRoles(lead_user_ids=(external.id,)))

    linked = await people.resolve(external.id, team_id=TEAM_ID)
    assert linked.roles == {Role.CUSTOMER} and linked.customer_id == "C-1001" and not linked.is_lead
    for user in (stranger, guest, a_bot):
        principal = await people.resolve(user.id, team_id=TEAM_ID)
        assert principal.roles == {Role.CUSTOMER} and principal.customer_id is None

    posted_by_bot = await people.resolve("B0OTHER", team_id=TEAM_ID, bot_name="Deploy bot")
    assert (posted_by_bot.display_name, posted_by_bot.roles) == ("Deploy bot", {Role.CUSTOMER})


async def test_an_enterprise_grid_colleague_from_another_workspace_is_an_employee(
    fake_slack: FakeSlack, store: Store
) -> None:
    colleague = fake_slack.add_user(name="grid", team_id="T0SISTER")
    people = PrincipalResolver(fake_slack.client(), store, SlackRoles())
    assert (await people.resolve(colleague.id, team_id=TEAM_ID)).roles == {Role.CUSTOMER}
    user = await people.user(colleague.id)
    assert user is not None
    sibling = type(user)(**{**user.__dict__, "enterprise_id": "E1"})
    assert sibling.is_member_of(TEAM_ID, "E1") and not sibling.is_member_of(TEAM_ID, "E2")


async def test_when_slack_cannot_say_who_it_is_the_least_privilege_applies(
    fake_slack: FakeSlack, store: Store
) -> None:
    ann = fake_slack.add_user(name="ann")
    people = PrincipalResolver(fake_slack.client(), store, SlackRoles(lead_user_ids=(ann.id,)))
    fake_slack.fail_next("users.info", status=500)
    principal = await people.resolve(ann.id, team_id=TEAM_ID)
    assert principal.roles == {Role.CUSTOMER} and principal.display_name == ann.id
    assert (await people.resolve(ann.id, team_id=TEAM_ID)).is_lead  # not cached: asked again
    assert (await people.resolve("UNOBODY", team_id=TEAM_ID)).roles == {Role.CUSTOMER}


def test_ttl_cache_expires_and_evicts_the_oldest() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10.0, 2, clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    clock.now = 10.0
    assert cache.get("b") is None
