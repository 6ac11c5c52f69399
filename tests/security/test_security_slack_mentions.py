"""Mass mentions cost bounded Slack calls: a message's size is checked before any name is looked up, and
the names of one message (or one thread's history) cost at most ``MAX_NAME_LOOKUPS`` ``users.info`` calls,
with Slack's "no such user" remembered."""

from __future__ import annotations

from fakes.anthropic import Reply

from integrations.slack.principals import MAX_NAME_LOOKUPS
from tests.security.conftest import RigFactory
from tests.slack.rig import reply_text


def unknown_mentions(count: int) -> str:
    return " ".join(f"<@U{index:08d}>" for index in range(count))


async def test_an_oversized_message_of_mentions_is_turned_away_before_any_name_is_looked_up(
    secure_rig: RigFactory,
) -> None:
    rig = await secure_rig()
    mallory = rig.user("mallory")
    rig.fake.reset_calls()
    post = await rig.mention(mallory, unknown_mentions(2_500))
    await rig.settle()

    assert [c.args.get("user") for c in rig.fake.calls("users.info")] == [mallory.id]  # only the author
    [notice] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert "too long" in reply_text([notice]).lower() or "shorten" in notice.visible_text.lower()
    assert rig.model.message_requests == []


async def test_the_names_of_a_message_cost_a_bounded_number_of_lookups_once(secure_rig: RigFactory) -> None:
    rig = await secure_rig()
    ann = rig.user("ann")
    rig.model.script(Reply.text("Noted."), Reply.text("Noted again."))
    rig.fake.reset_calls()
    text = f"who are {unknown_mentions(200)}?"  # 200 unknown people, well under the size limit
    post = await rig.mention(ann, text)
    await rig.settle()
    lookups = rig.fake.calls("users.info")
    assert len(lookups) == MAX_NAME_LOOKUPS + 1  # the author, then the first names
    [answer] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert reply_text([answer]) == "Noted."
    asked = rig.model.message_requests[0].body["messages"][-1]["content"][0]["text"]
    assert "@U00000199" in asked  # beyond the bound a mention keeps its id

    rig.fake.reset_calls()
    await rig.say(ann, f"and {unknown_mentions(MAX_NAME_LOOKUPS)}?", thread_ts=post.ts)
    await rig.settle()
    assert rig.fake.calls("users.info") == []  # "no such user" is remembered
