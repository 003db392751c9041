"""Installation flavours: the wheel alone gives a ``learnway`` command that explains itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_the_wheel_installed_alone_says_which_extra_the_command_needs(tmp_path: Path) -> None:
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", tmp_path / "dist", ROOT)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("learnway-*.whl")
    venv = tmp_path / "clean"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python, command = venv / "bin" / "python", venv / "bin" / "learnway"
    # the wheel and its base dependencies only (no extra), as `pip install learnway` gives
    installed = _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     wheel)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert _run(python, "-c", "import typer").returncode != 0  # truly without the app extra

    for arguments in (["--help"], [], ["demo"]):
        answer = _run(command, *arguments, timeout=120)
        assert answer.returncode == 1
        assert "Traceback" not in answer.stderr
        assert "pip install 'learnway[app]'" in answer.stderr
    # the numeric core works without the extras
    core = _run(python, "-c", "from learnway.learner import BKT; print(BKT().__class__.__name__)")
    assert core.returncode == 0, core.stderr
    assert core.stdout.strip() == "BKT"


def test_the_command_needs_no_extra_to_load_its_entry_point() -> None:
    """The entry point itself imports nothing of the extras (checked in this environment by
    importing it in a fresh interpreter and listing what came with it)."""
    probe = ("import sys, learnway._command; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "learnway._command.APP_EXTRA_MODULES))")  # fmt: skip
    answer = _run(sys.executable, "-c", probe)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "[]"
