"""CASE 1.0 framework packages: OpenSALT's test packages, and packages written here for
prerequisites and defects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from dbdump import dump
from learnway import InputError
from learnway.interop import read_case
from learnway.store import load_framework, save_framework, transaction
from learnway.store._schema import FrameworkRow

PACKAGES = [
    "AdoptedTestFramework",
    "ItemTypeTestFramework",
    "MarkdownFramework",
    "Ordering",
    "SequenceNumberFramework",
    "SmartLevelFramework",
    "Utf8TestFramework",
]


@pytest.fixture
def case(shared: Path) -> Path:
    return shared / "interop" / "case"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_opensalt_package_reads_whole(case: Path, name: str) -> None:
    path = case / f"opensalt-{name}.json"
    package = json.loads(path.read_text())
    framework = read_case(path)
    assert framework.key == f"case-{package['CFDocument']['identifier']}"
    assert framework.title == package["CFDocument"]["title"]
    assert len(framework.competencies) == len(package["CFItems"])
    assert {c.title for c in framework.competencies} == {
        i["fullStatement"].strip() for i in package["CFItems"]
    }
    assert package["CFDocument"]["creator"] in framework.attribution


def test_order_follows_sequence_numbers_then_codes_in_natural_order(case: Path) -> None:
    numbered = read_case(case / "opensalt-SequenceNumberFramework.json")
    assert numbered.competencies[0].title == "Second added item, but should be first"
    ordering = read_case(case / "opensalt-Ordering.json")
    leaves = [c.code for c in ordering.competencies if c.parent == "H.A.MATH.GM.PF.2DFP.L1"]
    assert leaves == [f"H.A.MATH.GM.PF.2DFP.L1.{n}" for n in range(1, 25)]
    assert ordering["H.A.MATH.GM.PF"].parent == "H.A.MATH.GM"
    assert [c.sequence for c in ordering.competencies] == list(range(28))


@pytest.mark.parametrize(
    ("name", "text"), [("Utf8TestFramework", "𝑑"), ("MarkdownFramework", "\\sqrt{b^2-4ac}")]
)
def test_utf8_and_markdown_survive_the_database(
    engine: Engine, case: Path, name: str, text: str
) -> None:
    framework = read_case(case / f"opensalt-{name}.json")
    with transaction(engine) as session:
        save_framework(session, framework)
        stored_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == framework.key))
        assert stored_id is not None
        stored = load_framework(session, stored_id)
    assert stored.title == framework.title
    assert [c.title for c in stored.competencies] == [c.title for c in framework.competencies]
    assert any(text in c.title for c in stored.competencies)  # the package's own text, whole


def _package(items: list[tuple[str, str | None]], links: list[tuple[str, str, str]]) -> Any:
    """A package: items (identifier, human code), associations (type, origin, destination)."""

    def node(identifier: str) -> dict[str, str]:
        return {"identifier": identifier, "uri": f"urn:x:{identifier}", "title": identifier}

    return {
        "CFDocument": {"identifier": "doc", "title": "Fractions", "creator": "A district",
                       "publisher": "Its office", "licenseURI": {"title": "CC BY 4.0"}},
        "CFItems": [
            {"identifier": i, "fullStatement": f"Statement {i}", "CFItemType": "Cluster",
             **({"humanCodingScheme": code} if code else {})}
            for i, code in items
        ],
        "CFAssociations": [
            {"identifier": f"a{n}", "associationType": kind, "originNodeURI": node(a),
             "destinationNodeURI": node(b)}
            for n, (kind, a, b) in enumerate(links)
        ],
    }  # fmt: skip


def _write(tmp_path: Path, package: Any) -> Path:
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package))
    return path


def test_precedes_and_related_edges_become_the_graph(engine: Engine, tmp_path: Path) -> None:
    items = [("u", "F.1"), ("p", "F.1.a"), ("q", "F.1.b"), ("r", None)]
    links = [
        ("isChildOf", "u", "doc"),
        ("isChildOf", "p", "u"),
        ("isChildOf", "q", "u"),
        ("isChildOf", "r", "doc"),
        ("precedes", "p", "q"),
        ("isRelatedTo", "q", "r"),
        ("exactMatchOf", "q", "elsewhere"),  # outside the package: carries nothing here
    ]
    framework = read_case(_write(tmp_path, _package(items, links)))
    assert framework.prerequisites == (("F.1.a", "F.1.b"),)
    assert framework.related == (("F.1.b", "r"),)
    assert framework["F.1.b"].kind == "cluster" and framework.license == "CC BY 4.0"
    assert framework.attribution == "A district, Its office"
    with transaction(engine) as session:
        save_framework(session, framework)
    before = dump(engine)
    with transaction(engine) as session:
        assert save_framework(session, framework).changed == 0
    assert dump(engine) == before


def test_every_problem_is_named_and_nothing_is_read(tmp_path: Path) -> None:
    items = [("a", "X.1"), ("b", "X.1"), ("c", None), ("c", None), ("d", None), ("e", None)]
    links = [
        ("isChildOf", "a", "doc"),
        ("isChildOf", "b", "doc"),
        ("isChildOf", "c", "nowhere"),
        ("isChildOf", "d", "e"),
        ("isChildOf", "e", "d"),
    ]
    with pytest.raises(InputError) as refused:
        read_case(_write(tmp_path, _package(items, links)))
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "CFItems[3] (c): identifier c is used twice" in found
    assert "CFAssociations[2]: isChildOf an item or document that is not in the package" in found
    assert "package.json: d: its isChildOf associations form a cycle" in found
    assert "package.json: c: is not placed in the document" in found

    cycle = _package(
        [("a", None), ("b", None)],
        [("isChildOf", "a", "doc"), ("isChildOf", "b", "doc"),
         ("precedes", "a", "b"), ("precedes", "b", "a")],
    )  # fmt: skip
    with pytest.raises(InputError, match="prerequisite cycle"):
        read_case(_write(tmp_path, cycle))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match="not a JSON file"):
        read_case(broken)
