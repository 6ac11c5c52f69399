"""[[kb.sources]] in config/bot.toml (bot/kb/sources/kinds.py): the commented examples are valid, each kind
gets its own model, and a mistake names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_bot_config
from bot.errors import ConfigError
from bot.kb.sources.kinds import DEFAULT_SOURCE_NAME

ROOT = Path(__file__).resolve().parents[2]


def test_the_commented_examples_in_bot_toml_are_valid(tmp_path: Path) -> None:
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    block = text[text.index("# [[kb.sources]]") :].split("\n\n")[0]  # the examples end at a blank line
    uncommented = "\n".join(line[2:] if line.startswith("# ") else "" for line in block.splitlines())
    (tmp_path / "bot.toml").write_text(uncommented, encoding="utf-8")
    config = load_bot_config(tmp_path / "bot.toml")
    assert [(source.name, source.kind) for source in config.kb.sources] == [
        ("docs", "folder"),
        ("website", "website"),
        ("zendesk", "zendesk"),
    ]


def test_without_sources_the_kb_path_folder_is_the_default_source() -> None:
    config = load_bot_config(ROOT / "config" / "bot.toml")
    [source] = config.kb.configured(ROOT / "config" / "kb")
    assert (source.name, source.kind) == (DEFAULT_SOURCE_NAME, "folder")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[kb.sources]]\nname = "a"\nkind = "folder"\npath = "x"\n'
            '[[kb.sources]]\nname = "a"\nkind = "folder"\npath = "y"\n',
            "kb.sources: two sources are named 'a'",
        ),
        ('[[kb.sources]]\nname = "drafts"\nkind = "folder"\npath = "x"\n', "'drafts' is the published KB"),
        ('[[kb.sources]]\nname = "a"\nkind = "ftp"\n', "kb.sources.0"),
        ('[[kb.sources]]\nname = "a"\nkind = "folder"\npath = "x"\nsync_evry = 60\n', "sync_evry"),
    ],
)
def test_a_mistake_names_the_key_and_exits_2(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "bot.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_bot_config(tmp_path / "bot.toml")
    assert message in str(raised.value)
    assert raised.value.exit_status == 2
