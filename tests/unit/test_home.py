"""Every path setting resolves against one project folder: SUPPORTBOT_HOME, else the current folder when it
has a config/bot.toml, else the packaged defaults with data in the user's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.home import PACKAGED_CONFIG, find_home, user_data_folder
from bot.settings import load_settings

PATHS = {
    "kb_path": ("config", "kb"),
    "bot_config_path": ("config", "bot.toml"),
    "system_prompt_path": ("config", "prompts", "system.md"),
    "demo_orders_path": ("config", "demo", "orders.json"),
    "kb_index_path": ("data", "kb.sqlite3"),
    "orders_db_path": ("data", "orders.sqlite3"),
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No path setting from outside; XDG_DATA_HOME in tmp_path. Returns an empty working folder."""
    for name in [*(key.upper() for key in PATHS), "DATABASE_URL", "SUPPORTBOT_HOME"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def project(folder: Path, env: str = "") -> Path:
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "bot.toml").write_text("")
    (folder / ".env").write_text(env)
    return folder


def test_outside_a_project_the_packaged_defaults_and_the_user_data_folder(clean_env: Path) -> None:
    settings = load_settings()
    data = clean_env.parent / "xdg" / "supportbot"
    for name, parts in PATHS.items():
        root = PACKAGED_CONFIG if parts[0] == "config" else data
        assert getattr(settings, name) == root.joinpath(*parts[1:]), name
    assert settings.database_url == f"sqlite:///{data / 'supportbot.db'}"
    assert settings.bot_config_path.is_file() and settings.kb_path.is_dir()
    assert settings.demo_orders_path.is_file() and settings.system_prompt_path.is_file()
    assert list(clean_env.iterdir()) == []  # nothing is written where the command stands


def test_a_folder_with_config_bot_toml_is_the_project(clean_env: Path) -> None:
    project(clean_env, env="KB_PATH=articles\n")
    settings = load_settings()
    assert settings.kb_path == clean_env / "articles"  # its .env is read, relative to it
    assert settings.bot_config_path == clean_env / "config" / "bot.toml"
    assert settings.orders_db_path == clean_env / "data" / "orders.sqlite3"
    assert settings.database_url == f"sqlite:///{clean_env / 'data' / 'supportbot.db'}"


def test_supportbot_home_wins_and_its_env_is_read(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(clean_env, env="LOG_LEVEL=ERROR\n")  # the current folder is a project too, and loses
    site = project(tmp_path / "site", env="LOG_LEVEL=DEBUG\nDATABASE_URL=sqlite:///state/bot.db\n")
    monkeypatch.setenv("SUPPORTBOT_HOME", str(site))
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.bot_config_path == site / "config" / "bot.toml"
    assert settings.kb_index_path == site / "data" / "kb.sqlite3"
    assert settings.database_url == f"sqlite:///{site / 'state' / 'bot.db'}"


def test_a_relative_supportbot_home_is_taken_from_the_current_folder(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTBOT_HOME", "site")
    assert load_settings().kb_path == clean_env / "site" / "config" / "kb"


def test_absolute_paths_and_other_databases_are_kept(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_PATH", str(tmp_path / "kb"))
    for url in (f"sqlite:///{tmp_path / 'a.db'}", "sqlite://:memory:", "postgresql://bot@db.internal/bot"):
        monkeypatch.setenv("DATABASE_URL", url)
        settings = load_settings()
        assert settings.database_url == url
        assert settings.kb_path == tmp_path / "kb"


def test_outside_a_project_other_relative_paths_are_the_current_folders(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_PATH", "my-articles")
    assert load_settings().kb_path == clean_env / "my-articles"


def test_user_data_folder() -> None:
    assert user_data_folder({"XDG_DATA_HOME": "/srv/xdg"}) == Path("/srv/xdg/supportbot")
    default = Path.home() / ".local" / "share" / "supportbot"
    assert user_data_folder({}) == default
    assert user_data_folder({"XDG_DATA_HOME": "relative"}) == default  # the spec ignores relative ones


def test_find_home_without_touching_the_process(tmp_path: Path) -> None:
    assert find_home({}, cwd=tmp_path).folder is None
    project(tmp_path)
    home = find_home({}, cwd=tmp_path)
    assert home.folder == tmp_path.resolve() and home.env_file == tmp_path.resolve() / ".env"
