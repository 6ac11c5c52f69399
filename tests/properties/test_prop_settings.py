"""Settings from the environment and ``config/bot.toml``: anything gives a valid configuration or one
``ConfigError`` line that names the variable or key, never another exception."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.config import BotConfig, load_bot_config
from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from tests.properties.strategies import ANY_TEXT, QUICK, same_toml, toml_dumps

FIELDS = sorted(Settings.model_fields)
SECRET_FIELDS = {name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
ENV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
ENV_VALUES = st.one_of(
    ENV_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "1e309",
            "nan",
            "-inf",
            "true",
            "http://[",
            "sqlite://",
            "postgresql://u:SECRET-pw@h/db",
            "mysql://u:p@h/db",
            "https://api.example",
            "ftp://x",
            "debug",
            "TRACE",
            "65536",
            "${HOME}",
            "[1, 2]",
            '{"a": 1}',
        ]
    ),
)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Exactly these settings variables set (upper case), for the duration of the block."""
    saved = {k: v for k, v in os.environ.items() if k.lower() in FIELDS or k.startswith("ANTHROPIC_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


def message_for(values: dict[str, str]) -> str:
    """The one-line error these settings give ('' when they load)."""
    try:
        with environment(values):
            load_settings(_env_file=None)
    except ConfigError as error:
        return str(error)
    return ""


def check_outcome(values: dict[str, str]) -> Settings | None:
    try:
        with environment(values):
            settings = load_settings(_env_file=None)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, message
        name = message.split(":", 1)[0].split(".")[0]  # DISCORD_SHARD_IDS.0: the first item of the list
        assert name in values, (message, values)  # the message starts with the variable's name
        for secret in SECRET_FIELDS:
            value = values.get(secret.upper(), "")
            # A secret is never echoed: where its value shows, it is the hint's own words (as "sqlite:/"
            # in "use sqlite:///…"), there just the same when the secret is not set at all.
            if len(value.strip()) >= 4 and value in message:
                without = {k: v for k, v in values.items() if k != secret.upper()}
                assert value in message_for(without), message
        return None
    assert isinstance(settings, Settings)
    for secret in SECRET_FIELDS:
        assert getattr(settings, secret) is None or isinstance(getattr(settings, secret), SecretStr)
    return settings


@pytest.mark.parametrize("field", FIELDS)
@QUICK
@given(value=ENV_VALUES)
def test_any_value_of_one_variable(field: str, value: str) -> None:
    check_outcome({field.upper(): value})


@QUICK
@given(values=st.dictionaries(st.sampled_from(FIELDS).map(str.upper), ENV_VALUES, min_size=1, max_size=6))
@example(values={"DATABASE_URL": "mysql://u:SECRET-pw@h/db", "PORT": "0"})
def test_any_values_of_several_variables(values: dict[str, str]) -> None:
    check_outcome(values)


# ---- config/bot.toml ---------------------------------------------------------------------------------

SCALAR = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    ANY_TEXT,
    st.dates(),
    st.lists(st.one_of(ANY_TEXT, st.integers(-5, 5)), max_size=3),
)
KNOWN: dict[str, Any] = {
    "slack": ["lead_user_ids", "lead_usergroup_id", "leads_channel"],
    "discord": ["lead_role_ids", "leads_channel_id"],
    "limits": ["messages_per_user_per_minute", "daily_tokens_per_space", "max_input_chars", "leads_exempt"],
    "agent": ["max_tool_rounds", "tool_timeout_seconds", "history_turns"],
    "channels": ["answer_bots", "solved_tag", "forum"],
    "prices": ["input", "output", "cache_read", "cache_write"],
    "platforms": [
        "max_message_chars",
        "edit_interval_seconds",
        "edits_per_minute",
        "edit_burst",
        "edit_reserve",
        "posts_per_second",
    ],
}
GOOD = {
    "lead_user_ids": st.lists(st.from_regex(r"U[A-Z0-9]{4}", fullmatch=True), max_size=2),
    "answer_bots": st.booleans(),
    "forum": st.booleans(),
    "leads_exempt": st.booleans(),
    "max_message_chars": st.integers(150, 5000),
    "edits_per_minute": st.floats(0.5, 100),
    "edit_reserve": st.integers(0, 3),
}


def field_value(name: str) -> st.SearchStrategy[Any]:
    plausible = GOOD.get(name, st.integers(-10, 10**7) | st.floats(-1, 1e6) | st.from_regex(r"[A-Z0-9]{1,6}"))
    return st.one_of(plausible, plausible, SCALAR)


def table(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries({}, optional={name: field_value(name) for name in names})
    extra = st.dictionaries(ANY_TEXT, SCALAR, max_size=1)
    return st.tuples(known, extra, st.booleans()).map(lambda t: {**t[0], **t[1]} if t[2] else t[0])


def keyed_tables(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(["slack", "discord", "C0GENERAL", "claude-sonnet"]), ANY_TEXT)
    return st.dictionaries(keys, st.one_of(table(names), SCALAR), max_size=3)


TOML_DOCS = st.fixed_dictionaries(
    {},
    optional={
        "slack": table(KNOWN["slack"]) | SCALAR,
        "discord": table(KNOWN["discord"]),
        "limits": table(KNOWN["limits"]),
        "agent": table(KNOWN["agent"]) | SCALAR,
        "channels": keyed_tables(KNOWN["channels"]),
        "prices": keyed_tables(KNOWN["prices"]),
        "platforms": keyed_tables(KNOWN["platforms"]),
    },
).flatmap(lambda doc: st.dictionaries(ANY_TEXT, SCALAR, max_size=1).map(lambda extra: {**doc, **extra}))


def names_a_key(rest: str, doc: Any) -> bool:
    """``rest`` starts with ``key.key…: `` naming a key (or list index) of ``doc``, or a missing field."""
    if isinstance(doc, dict):
        for key in sorted(doc, key=len, reverse=True):
            shown = key if key.isprintable() else repr(key)  # how the message spells an odd key
            if rest.startswith(shown):
                after = rest[len(shown) :]
                if after.startswith(": ") or (after.startswith(".") and names_a_key(after[1:], doc[key])):
                    return True
        field = rest.split(":", 1)[0]
        return "." not in field and rest.startswith(f"{field}: Field required")
    if isinstance(doc, list):
        index, _, after = rest.partition(".")
        head = rest.split(":", 1)[0]
        if head.isdigit() and int(head) < len(doc):
            return rest[len(head) :].startswith(": ")
        return index.isdigit() and int(index) < len(doc) and names_a_key(after, doc[int(index)])
    return False


def check_config(path: Path, doc: dict[str, Any] | None) -> BotConfig | None:
    try:
        config = load_bot_config(path)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message, message
        assert message.startswith(f"{path}: "), message
        if doc is not None:
            assert names_a_key(message[len(f"{path}: ") :], doc), message
        return None
    assert isinstance(config, BotConfig)
    return config


@QUICK
@given(doc=TOML_DOCS)
@example(doc={"platforms": {"slack": {"max_message_chars": 4000, "edits_per_minute": 2, "edit_reserve": 5}}})
@example(doc={"limits": {"max_input_chars": 10**30}})
@example(doc={"\n": False})
def test_any_toml_document_gives_a_config_or_names_the_key(doc: dict[str, Any]) -> None:
    text = toml_dumps(doc)
    import tomllib

    assert same_toml(tomllib.loads(text), doc), text  # the dumper wrote what was meant
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.toml"
        path.write_text(text, encoding="utf-8")
        check_config(path, doc)


@QUICK
@given(raw=st.binary(max_size=200) | ANY_TEXT.map(lambda s: s.encode("utf-8")))
@example(raw="# Café\n[slack]\n".encode("latin-1"))
@example(raw=b"\xff\xfe[\x00s\x00]\x00")
def test_any_file_gives_a_config_or_one_line(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.toml"
        path.write_bytes(raw)
        check_config(path, None)
