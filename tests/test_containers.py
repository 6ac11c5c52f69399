"""compose.yaml runs two bot instances on PostgreSQL and Redis; the Dockerfile runs as a non-root user and
reports ready from /readyz. (CI also validates both with `docker compose config` and hadolint where they
exist; nothing here needs Docker.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def instances(services: dict[str, Any]) -> dict[str, Any]:
    """The bot services that run without a profile: the ones `docker compose up` starts."""
    return {name: s for name, s in services.items() if "build" in s and not s.get("profiles")}


def test_two_bot_instances_share_postgres_and_redis() -> None:
    services = compose()["services"]
    bots = instances(services)
    assert len(bots) == 2, list(bots)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name, bot in bots.items():
        env = bot["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"], (
            name
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379"), name
        assert bot["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
        assert "/readyz" in " ".join(bot["healthcheck"]["test"]), name
        assert any(volume.endswith(":/srv/supportbot/data") for volume in bot["volumes"]), name
        assert env["DISCORD_TOKEN"] == "", name  # each Discord shard is connected once, elsewhere
    assert len({tuple(bot["ports"]) for bot in bots.values()}) == 2  # each its own host port
    assert len({tuple(bot["volumes"]) for bot in bots.values()}) == 2
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name


def test_discord_runs_once_in_a_profile_of_its_own() -> None:
    discord = compose()["services"]["discord"]
    assert discord["profiles"] == ["discord"]
    assert discord["command"] == ["supportbot", "serve", "--only", "discord"]
    assert discord["environment"]["DISCORD_TOKEN"] == "${DISCORD_TOKEN:-}"


def test_the_image_runs_as_a_non_root_user_and_checks_readyz() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [arguments for instruction, arguments in steps if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (healthcheck,) = [arguments for instruction, arguments in steps if instruction == "HEALTHCHECK"]
    assert "/readyz" in healthcheck and "urllib.request" in healthcheck and "curl" not in healthcheck
    assert ("VOLUME", '["/srv/supportbot/data"]') in steps
    env = " ".join(arguments for instruction, arguments in steps if instruction == "ENV")
    assert "SUPPORTBOT_HOME=/srv/supportbot" in env


def test_the_build_context_leaves_secrets_and_local_data_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!.env" not in ignored and "!data/" not in ignored
    copied = {arguments.split()[0] for instruction, arguments in dockerfile() if instruction == "COPY"}
    for path in copied:
        assert f"!{path}" in ignored, path  # everything the Dockerfile copies is in the context
