"""The table of ADL's xAPI 1.0.3 LRS requirements and the tests that check each one.

``python tests/web/xapi_requirements.py`` writes ``docs/xapi-requirements.md`` from
``data/xapi_lrs_requirements.tsv`` and the ids the conformance tests name (``covers``);
``test_xapi_requirements.test_the_requirements_table_is_current`` fails when the file is not
what this writes, so the counts in it are never typed by hand.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "xapi_lrs_requirements.tsv"
DOC = HERE.parents[1] / "docs" / "xapi-requirements.md"
MODULES = ("web.test_xapi_conformance", "web.test_xapi_requirements")


def requirements() -> list[tuple[str, str, str]]:
    """ADL's requirements: (id, section, the requirement in short)."""
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            ident, section, text = line.split("\t")
            rows.append((ident, section, text))
    return rows


def covered() -> dict[str, list[str]]:
    """Requirement id -> the tests that name it, once every conformance module is imported."""
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))
    for name in MODULES:
        importlib.import_module(name)
    from web.xapi_server import REQUIREMENTS

    return {r: sorted(set(tests)) for r, tests in REQUIREMENTS.items()}


def render() -> str:
    rows = requirements()
    tests = covered()
    known = {ident for ident, _, _ in rows}
    unknown = sorted(r for r in tests if r.startswith("XAPI-") and r not in known)
    if unknown:
        raise ValueError(f"tests name requirements ADL's list does not hold: {unknown}")
    done = [ident for ident, _, _ in rows if ident in tests]
    lines = [
        "# xAPI 1.0.3: ADL's LRS conformance requirements and the tests that check them",
        "",
        "Written by `python tests/web/xapi_requirements.py` from ADL's requirement list",
        "(`tests/web/data/xapi_lrs_requirements.tsv`, after *The Experience API (xAPI) Conformance",
        "Requirements for Learning Record Stores, Version 1.0.3*, (c) 2016 Data Interoperability",
        "Standards Consortium, Apache-2.0) and the ids the tests in",
        "`tests/web/test_xapi_conformance.py` and `tests/web/test_xapi_requirements.py` name;",
        "a test fails when this file is not what the script writes. Each test runs against",
        "Learnway served on loopback, on SQLite and on PostgreSQL.",
        "",
        f"**Covered: {len(done)} of {len(rows)} requirements; not covered: "
        f"{len(rows) - len(done)}.**",
        "",
        "| id | section | requirement | tests |",
        "|---|---|---|---|",
    ]
    for ident, section, text in rows:
        names = ", ".join(f"`{t}`" for t in tests.get(ident, [])) or "**not covered**"
        lines.append(f"| {ident} | {section} | {text} | {names} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
