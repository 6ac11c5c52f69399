"""The wheel, installed (not editable) in a fresh virtualenv, runs from a folder that is not a checkout.

The wheel is built the way a user's pip builds it (in an isolated build environment, from PyPI). It is
installed with ``--no-deps --no-index``; its dependencies are taken from the environment running the tests
(a ``.pth`` line), which holds them already, so nothing but the build reaches an index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
TRACKING = "1Z999AA10123456784"  # ORD-10001's, in config/demo/orders.json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel in it; returns its bin folder."""
    where = tmp_path_factory.mktemp("install")
    source = where / "source"  # a copy, so that the build leaves nothing in the working tree
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "data",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            ".env",
        ),
    )
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(where / "dist"), str(source)])
    (wheel,) = (where / "dist").glob("supportbot-*.whl")
    venv = where / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "zz_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv / "bin"


def run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result.stdout


def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: no setting, no PYTHONPATH to a checkout, a home of its own."""
    kept = {"PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in kept}
    return {**env, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "home" / "xdg")}


def test_the_package_comes_from_the_virtualenv(installed: Path, tmp_path: Path) -> None:
    where = run(
        [str(installed / "python"), "-c", "import bot; print(bot.__file__)"],
        cwd=tmp_path,
        env=user_env(tmp_path),
    )
    assert where.startswith(str(installed.parent)), where


def test_ask_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run(
        [str(installed / "supportbot"), "ask", "--as", "customer:C-1001", "Where is my order ORD-10001?"],
        cwd=empty,
        env=user_env(tmp_path),
    )
    assert TRACKING in out
    assert list(empty.iterdir()) == []  # the data went to the user's data folder
    assert (tmp_path / "home" / "xdg" / "supportbot" / "supportbot.db").is_file()


def test_init_then_doctor_passes_with_the_copy(installed: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path)
    run([str(installed / "supportbot"), "init", "site"], cwd=tmp_path, env=env)
    site = tmp_path / "site"
    assert (site / "config" / "bot.toml").is_file() and (site / ".env").is_file()
    out = run([str(installed / "supportbot"), "doctor"], cwd=site, env=env)
    assert f"{site / 'config' / 'bot.toml'} is valid" in out and "✗" not in out


def test_version(installed: Path, tmp_path: Path) -> None:
    out = run([str(installed / "supportbot"), "--version"], cwd=tmp_path, env=user_env(tmp_path))
    assert out.strip() == f"supportbot {VERSION}"
