"""`supportbot serve --only`: repeated or comma-separated; an unknown platform, or one whose tokens are not
set, ends the process before anything starts, with one line naming it and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve.rig import run


@pytest.mark.parametrize("only", [["bogus"], ["slack,bogus"], ["discord", "bogus"]])
async def test_an_unknown_platform_is_one_line_and_exit_2(tmp_path: Path, only: list[str]) -> None:
    status, output, errors = await run(tmp_path, "serve", *(f"--only={name}" for name in only))
    assert status == 2 and output == ""
    assert errors.splitlines() == [
        "supportbot: --only: unknown platform 'bogus'; choose from slack, discord"
    ], errors


@pytest.mark.parametrize(
    ("only", "missing"),
    [
        (["discord"], "DISCORD_TOKEN"),
        (["slack,discord"], "SLACK_BOT_TOKEN"),
        (["discord", "slack"], "SLACK_BOT_TOKEN"),
    ],
)
async def test_a_platform_without_its_token_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, only: list[str], missing: str
) -> None:
    status, _, errors = await run(tmp_path, "serve", *(f"--only={name}" for name in only))
    assert status == 2 and errors.startswith(f"supportbot: {missing}: missing"), errors
    assert len(errors.splitlines()) == 1, errors
