"""Who counts as staff on Slack, in shared (Slack Connect) channels, for guests and in Enterprise Grid.

Each case sends a mention the way Slack delivers it, through the real slack-bolt app, and asks for an
order that is not the asker's. Staff see it with its internal note; a customer gets the same answer as for
an order that does not exist. The workspace is always the installing one (``authorizations[0]`` or
``context_team_id``): in a channel another organisation created, the envelope's ``team_id`` and
``enterprise_id`` are that organisation's, and must not make its members ours.

Envelope variants: ``ours`` (a channel of our workspace, shared or not), ``theirs`` (a channel the other
organisation created: its ids in ``team_id``/``enterprise_id``, ours in ``authorizations``), and
``theirs-context`` (the same without ``authorizations``, only ``context_team_id``/``context_enterprise_id``).
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes.anthropic import Reply
from fakes.slack import EXTERNAL_TEAM_ID, EventSender, FakeUser, UserPost, mention

from bot.types import Role
from integrations.slack.inbound import BotIdentity, click_from_payload, thread_ref
from tests.security.conftest import RigFactory
from tests.security.leak_checks import SLACK_SIGNING_SECRET, tool_result_texts
from tests.slack.rig import SlackRig, reply_text
from tools.orders import not_found_text

OUR_ORG = "E0OURS"
THEIR_ORG = "E0THEIRS"
FOREIGN_ORDER = "ORD-10002"  # C-1002's order: only staff may see it
VARIANTS = ["ours", "theirs", "theirs-context"]

# fmt: off
PEOPLE: dict[str, tuple[dict[str, Any], str]] = {
    # who                          users.info facts                                           expected
    "employee":               ({}, "staff"),
    "external customer":      ({"external": True}, "customer"),
    "external, their org":    ({"external": True, "enterprise_id": THEIR_ORG}, "customer"),
    "guest":                  ({"is_restricted": True}, "customer"),
    "single-channel guest":   ({"is_ultra_restricted": True}, "customer"),
    "grid colleague":         ({"team_id": "T0SISTER", "enterprise_id": OUR_ORG}, "staff"),
}
# fmt: on


def envelope_options(variant: str) -> dict[str, Any]:
    """``EventSender.envelope`` options for a channel of ``variant``; our installation is in ``OUR_ORG``."""
    if variant == "ours":
        return {"enterprise_id": OUR_ORG}
    return {
        "host_team_id": EXTERNAL_TEAM_ID,
        "host_enterprise_id": THEIR_ORG,
        "enterprise_id": OUR_ORG,
        "authorizations": variant == "theirs",
    }


async def deliver(rig: SlackRig, post: UserPost, variant: str) -> None:
    """Deliver ``post``'s events in envelopes of ``variant``, each acknowledged with 200."""
    events = [post.message_event] + ([post.app_mention_event] if post.app_mention_event else [])
    for event in events:
        delivery = await rig.sender.send_envelope(rig.sender.envelope(event, **envelope_options(variant)))
        assert delivery.status == 200, delivery


async def ask(
    rig: SlackRig, person: FakeUser, variant: str, channel: str, *, thread: str | None = None
) -> tuple[str, UserPost]:
    """``person`` asks for the foreign order: what the order tool told the model, and the question."""
    before = len(rig.model.message_requests)
    rig.model.script(
        Reply.tool_use(("lookup_order", {"order_id": FOREIGN_ORDER})), Reply.text("Here is what I found.")
    )
    text = f"{mention()} where is {FOREIGN_ORDER}?" if thread is None else f"and {FOREIGN_ORDER}?"
    post = rig.fake.post_as_user(channel, person.id, text, thread)
    await deliver(rig, post, variant)
    await rig.settle()
    requests = rig.model.message_requests[before:]
    assert len(requests) == 2, "the question was not answered"
    [result] = tool_result_texts(requests[1].body["messages"])[-1:]
    return result, post


def shared_channel(rig: SlackRig, name: str) -> str:
    return rig.fake.add_channel(name=name, is_ext_shared=True).id


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("who", list(PEOPLE))
async def test_only_members_of_the_installing_workspace_or_its_grid_org_are_staff(
    secure_rig: RigFactory, who: str, variant: str
) -> None:
    rig = await secure_rig()
    facts, expected = PEOPLE[who]
    person = rig.user(who.split()[0].replace(",", ""), **facts)
    channel = shared_channel(rig, f"connect-{variant}")

    result, post = await ask(rig, person, variant, channel)

    [audit] = await rig.core.store.tool_calls(limit=1)
    if expected == "staff":
        assert result.startswith(f"Order {FOREIGN_ORDER}: ") and "Internal note" in result, result
        assert audit.allowed and audit.principal == Role.EMPLOYEE.value
    else:
        assert result == not_found_text(FOREIGN_ORDER)
        assert not audit.allowed and audit.principal == Role.CUSTOMER.value
    # The thread is keyed by the installing workspace, whoever created the channel.
    turns = await rig.core.store.load_turns(thread_ref(rig.fake.team_id, channel, post.ts))
    assert [t.role for t in turns] == ["user", "assistant"]


@pytest.mark.parametrize("variant", ["theirs", "theirs-context"])
async def test_an_external_customer_s_follow_up_in_their_channel_is_answered_without_a_mention(
    secure_rig: RigFactory, variant: str
) -> None:
    rig = await secure_rig()
    carl = rig.user("carl", external=True, enterprise_id=THEIR_ORG)
    await rig.core.store.link_identity("slack", carl.id, "C-1002")
    channel = shared_channel(rig, "partner-support")

    first, _ = await ask(rig, carl, variant, channel)
    assert first.startswith(f"Order {FOREIGN_ORDER}: ") and "Internal note" not in first  # their own order
    [answer] = rig.fake.bot_messages(channel)
    follow_up, _ = await ask(rig, carl, variant, channel, thread=answer.thread_ts)
    assert follow_up.startswith(f"Order {FOREIGN_ORDER}: ") and "Internal note" not in follow_up
    replies = [m for m in rig.fake.bot_messages(channel) if m.thread_ts == answer.thread_ts]
    assert len(replies) == 2 and "Here is what I found." in reply_text(replies)


async def test_a_slash_command_from_another_organisation_gets_a_customer_s_view(
    secure_rig: RigFactory,
) -> None:
    rig = await secure_rig()
    carl = rig.user("carl", external=True)
    channel = shared_channel(rig, "partner-support")
    # Slack names the person's own workspace in a slash command from a shared channel.
    theirs = EventSender(
        rig.sender.url,
        SLACK_SIGNING_SECRET,
        team_id=EXTERNAL_TEAM_ID,
        response_url_factory=rig.fake.new_response_url,
    )
    url = rig.fake.new_response_url(channel_id=channel, user_id=carl.id)
    delivery = await theirs.send_slash_command(
        "/support", "kb search refund approval policy", user_id=carl.id, channel_id=channel, response_url=url
    )
    assert delivery.status == 200
    await rig.settle()
    [reply] = rig.fake.response_posts(url)
    assert "refund" in reply["text"].lower()
    assert "(internal)" not in reply["text"] and "/internal/" not in reply["text"]


def test_a_click_or_command_from_another_organisation_counts_for_the_installing_workspace() -> None:
    bot = BotIdentity("U0BOT", "B0BOT", team_id="T0OURS", enterprise_id=OUR_ORG)
    assert bot.workspace(EXTERNAL_TEAM_ID, THEIR_ORG) == ("T0OURS", OUR_ORG)
    assert bot.workspace(EXTERNAL_TEAM_ID, None) == ("T0OURS", OUR_ORG)
    assert bot.workspace("T0SISTER", OUR_ORG) == ("T0SISTER", OUR_ORG)  # an org-wide install's workspace
    assert bot.workspace("T0OURS", None) == ("T0OURS", OUR_ORG)
    click = click_from_payload(
        {
            "type": "block_actions",
            "team": {"id": EXTERNAL_TEAM_ID, "domain": "partner"},
            "enterprise": {"id": THEIR_ORG, "name": "Partner"},
            "user": {"id": "U0CARL", "team_id": EXTERNAL_TEAM_ID},
            "channel": {"id": "C0SHARED"},
            "container": {"message_ts": "1700000000.000100", "channel_id": "C0SHARED"},
            "message": {"ts": "1700000000.000100"},
            "actions": [{"action_id": "supportbot_escalate", "value": "x"}],
        },
        bot=bot,
    )
    assert click is not None and (click.team_id, click.enterprise_id) == ("T0OURS", OUR_ORG)
    assert click.ref.space_id == "T0OURS"
