"""End to end: links the model writes reach Slack showing their real target, and Slack fetches none of
them for a preview (a link the model was talked into writing must leak nothing without a click)."""

from __future__ import annotations

from fakes.anthropic import Reply
from fakes.slack import FakeSlack

from tests.slack.rig import RigFactory, section_text

ANSWER = (
    "Your parcel 1Z999 is on its way. [Track your parcel](https://evil.example/?d=1Z999) or see "
    "[https://shop.example/track](https://evil.example/x); also https://evil.example/bare?d=1Z999."
)
SHOWN = (
    "Your parcel 1Z999 is on its way. Track your parcel (<https://evil.example/?d=1Z999>) or see "
    "<https://evil.example/x>; also https://evil.example/bare?d=1Z999."
)


def unfurls(fake: FakeSlack) -> list[tuple[str, object, object]]:
    """Every chat.postMessage and chat.update that did not switch link and media previews off."""
    return [
        (call.method, call.args.get("unfurl_links"), call.args.get("unfurl_media"))
        for call in fake.calls()
        if call.method in ("chat.postMessage", "chat.update")
        and not all(str(call.args.get(k)).lower() in ("false", "0") for k in ("unfurl_links", "unfurl_media"))
    ]


async def test_a_masked_link_shows_its_target_and_no_link_is_unfurled(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    rig.model.script(Reply.text(ANSWER, tokens_per_second=400, chunk=7))
    ann = rig.user("ann")
    post = await rig.mention(ann, "where is my parcel?")
    await rig.settle()

    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(reply) == SHOWN
    assert "|" not in section_text(reply)  # no link anywhere has a label of its own
    assert reply.update_count >= 2  # the answer grew by edits, and every one of them is checked below
    assert len(rig.fake.calls("chat.update")) >= 2
    assert unfurls(rig.fake) == []
