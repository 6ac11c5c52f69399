"""``supportbot dashboard-link`` as an operator runs it, and the dashboard's settings when they are wrong."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.conftest import SECRET
from tests.serve.rig import run


async def test_the_link_is_built_on_the_public_url(tmp_path: Path) -> None:
    status, out, err = await run(
        tmp_path, "dashboard-link", DASHBOARD_SECRET=SECRET, PUBLIC_URL="https://support.example.com/"
    )
    assert (status, err) == (0, "")
    assert out.startswith("https://support.example.com/dashboard/login?t=")


async def test_without_a_secret_or_with_bad_settings_it_says_which_and_exits_2(tmp_path: Path) -> None:
    cases = (
        ({}, "DASHBOARD_SECRET: not set, so the dashboard is off"),
        ({"DASHBOARD_SECRET": "s3cret-too-short"}, "DASHBOARD_SECRET: must be at least 32 characters"),
        ({"DASHBOARD_SECRET": SECRET, "PUBLIC_URL": "support.example.com"}, "PUBLIC_URL: must be the http"),
    )
    for env, message in cases:
        status, out, err = await run(tmp_path, "dashboard-link", **env)
        assert status == 2, err
        assert out == "" and message in err and "Traceback" not in err
        assert "s3cret-too-short" not in err
