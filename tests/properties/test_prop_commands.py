"""``/support`` argument strings: any text gives a command or a usage message, never an exception."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.support_commands import LEADS_ONLY, Command, Help, KbSearch, parse_command
from integrations.slack.commands import SLACK_DIALECT
from tests.properties.strategies import ANY_TEXT, QUICK, STRINGS
from tests.slack.conftest import slack_rig, wall_clock_slack  # noqa: F401  (fixtures)
from tests.slack.rig import RigFactory

WORDS = st.sampled_from(
    [
        "help",
        "stats",
        "escalations",
        "link",
        "unlink",
        "kb",
        "search",
        "reload",
        "pause",
        "resume",
        "resolve",
        "STATS",
        "7",
        "90",
        "91",
        "0",
        "-1",
        "²",
        "٣",
        "１２",
        "#12",
        "#",
        "C-1001",
        "<@U0ANN>",
        "<@U0ANN|ann>",
        "U0ANN",
        "<!channel>",
        "@everyone",
        "'",
        '"',
        "`",
        "&lt;",
        "<https://x.slack.com/archives/C1/p1700000000000100>",
        "https://x.slack.com/archives/C1/p1700000000000100?thread_ts=1700000000.000100",
        "http://[",
        "https://[::1",
        "<http://[|x>",
        "https://x/archives/C1/p12",
    ]
)
COMMAND_TEXT = st.one_of(
    STRINGS,
    st.lists(st.one_of(WORDS, ANY_TEXT), min_size=1, max_size=5).map(" ".join),
    st.lists(WORDS, min_size=1, max_size=3).map(" ".join).map(lambda s: s + " x" * 5000),
)


@QUICK
@given(text=COMMAND_TEXT)
@example(text="stats ²")
@example(text="resolve http://[")
@example(text="resolve <https://[::1|link>")
def test_any_text_parses_to_a_command_or_a_usage_message(text: str) -> None:
    command = parse_command(text, SLACK_DIALECT)
    assert isinstance(command, Command.__args__)  # type: ignore[attr-defined]
    if isinstance(command, Help) and command.problem is not None:
        assert command.problem.strip() and "<!" not in command.problem
    if isinstance(command, KbSearch):
        assert command.query.strip()
    if isinstance(command, LEADS_ONLY):
        assert text.split()[0].lower() in {
            "stats",
            "escalations",
            "link",
            "unlink",
            "kb",
            "pause",
            "resume",
            "resolve",
        }
    assert dataclasses.is_dataclass(command)


# ---- what the person who typed it sees ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["stats ²", "resolve http://[", "resolve <https://[::1|link>"])
async def test_a_lead_gets_a_usage_message_for_odd_arguments(slack_rig: RigFactory, text: str) -> None:  # noqa: F811
    rig = await slack_rig(slack={"lead_user_ids": ["U0LEAD"]})
    lead = rig.fake.add_user("U0LEAD", name="lena")
    reply = await rig.command(lead, text)
    assert reply is not None and reply.startswith("Use `/support"), reply
