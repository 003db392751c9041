"""The README and docs stay true: every command and setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from learnway.cli import _app
from learnway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(group: typer.Typer, prefix: str = "learnway") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}")
        else:
            names.append(path)

    walk(click_group, prefix)
    return names


def test_every_command_is_in_the_readme() -> None:
    from learnway.cli import _bench_kt, _paths  # noqa: F401  (register their commands)

    commands = _commands(_app.app)
    assert "learnway import oatutor" in commands and "learnway demo" in commands
    missing = [c for c in commands if f"`{c}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    missing = [n for n in Settings.model_fields if f"LEARNWAY_{n.upper()}" not in README]
    assert missing == []


def test_readme_links_resolve() -> None:
    import re

    targets = re.findall(r"\]\(([^)#]+)\)", README)
    assert targets
    missing = [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in README and "make test\n" in ci
    assert "make lint" in ci


def test_make_bench_runs_every_benchmark_and_the_readme_lists_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    bench = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    scripts = ["benchmarks/store/run.py", "benchmarks/answers/coverage.py",
               "benchmarks/web/heatmap.py", "benchmarks/kt/run_all.sh"]  # fmt: skip
    for script in scripts:
        assert (ROOT / script).exists()
        assert script in bench, script
    for command in ("bench paths", "bench evidence", "bench live"):
        assert f"learnway {command}" in bench, command
    for results in ("store.md", "answers.md", "web.md", "paths.md", "kt-summary.md"):
        assert f"benchmarks/results/{results}" in README, results
