"""CASE 1.0 framework packages: OpenSALT's test packages, and packages written here for
prerequisites and defects."""

from __future__ import annotations

import json
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from dbdump import dump
from learnway import InputError, Problem
from learnway.interop import read_case
from learnway.interop._case import SCHEMA
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


def _id(name: str) -> str:
    """The CASE identifier (a UUID) written for ``name``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"learnway-test:{name}"))


def _package(items: list[tuple[str, str | None]], links: list[tuple[str, str, str]]) -> Any:
    """A package valid under the CASE 1.0 CFPackage schema: items (name, human code),
    associations (type, origin, destination); each name stands for the UUID ``_id(name)``."""

    def node(name: str) -> dict[str, str]:
        return {
            "identifier": _id(name),
            "uri": f"https://case.example/uri/{_id(name)}",
            "title": name,
        }

    stamp = {"lastChangeDateTime": "2026-01-05T12:00:00+00:00"}
    return {
        "CFDocument": {"identifier": _id("doc"), "uri": f"https://case.example/uri/{_id('doc')}",
                       "title": "Fractions", "creator": "A district", "publisher": "Its office",
                       "licenseURI": {"title": "CC BY 4.0", "identifier": _id("licence"),
                                      "uri": "https://creativecommons.org/licenses/by/4.0/"},
                       **stamp},
        "CFItems": [
            {"identifier": _id(i), "uri": f"https://case.example/uri/{_id(i)}",
             "fullStatement": f"Statement {i}", "CFItemType": "Cluster",
             **({"humanCodingScheme": code} if code else {}), **stamp}
            for i, code in items
        ],
        "CFAssociations": [
            {"identifier": _id(f"a{n}"), "uri": f"https://case.example/uri/{_id(f'a{n}')}",
             "associationType": kind, "originNodeURI": node(a), "destinationNodeURI": node(b),
             **stamp}
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
    assert framework.related == (("F.1.b", _id("r")),)
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
    assert f"CFItems[3] ({_id('c')}): identifier {_id('c')} is used twice" in found
    assert "CFAssociations[2]: isChildOf an item or document that is not in the package" in found
    assert f"package.json: {_id('d')}: its isChildOf associations form a cycle" in found

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


def test_the_case_schema_refuses_what_is_not_a_cfpackage_naming_each_place(
    tmp_path: Path,
) -> None:
    package = _package([("a", "A.1"), ("b", "A.2")], [("isChildOf", "a", "doc")])
    del package["CFItems"][1]["uri"]
    package["CFItems"][0]["identifier"] = "not-a-uuid"
    package["CFAssociations"][0]["associationType"] = "isFriendOf"
    package["CFDocument"]["title"] = 7
    with pytest.raises(InputError) as refused:
        read_case(_write(tmp_path, package))
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "package.json: CFDocument.title: CASE schema: 7 is not of type 'string'" in found
    assert "package.json: CFItems[0].identifier: CASE schema: 'not-a-uuid' does not match" in found
    assert "package.json: CFItems[1]: CASE schema: 'uri' is a required property" in found
    assert "CFAssociations[0].associationType: CASE schema: 'isFriendOf' is not one of" in found


def test_items_without_a_parent_are_placed_under_the_document_with_a_warning(
    engine: Engine, tmp_path: Path
) -> None:
    """A state framework published 15 of its 585 items without isChildOf: it is not refused."""
    items = [("u", "N.1"), ("p", "N.1.a"), ("lost", "N.9"), ("stray", "N.2")]
    links = [("isChildOf", "u", "doc"), ("isChildOf", "p", "u")]
    warnings: list[Problem] = []
    framework = read_case(_write(tmp_path, _package(items, links)), warnings=warnings)
    assert [c.code for c in framework.competencies] == ["N.1", "N.1.a", "N.9", "N.2"]
    assert framework["N.9"].parent is None and framework["N.2"].parent is None
    assert [str(w) for w in warnings] == [
        f"package.json: {_id(name)}: has no isChildOf association: placed under the document, "
        "after its other items"
        for name in ("lost", "stray")
    ]
    with transaction(engine) as session:
        assert save_framework(session, framework).inserted["competencies"] == 4


def test_an_empty_framework_is_read_with_a_warning(tmp_path: Path) -> None:
    warnings: list[Problem] = []
    framework = read_case(_write(tmp_path, _package([], [])), warnings=warnings)
    assert framework.competencies == ()
    assert [str(w) for w in warnings] == [
        "package.json: CFItems: the framework has no items: it is read empty"
    ]


def test_a_deeply_nested_document_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """200,000 nested arrays ended in a RecursionError traceback."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"CFDocument": ' + "[" * 200_000 + "]" * 200_000 + "}")
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"nests 200,001 levels deep \(at most 64\)"):
        read_case(deep)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 5 and peak < 64 * 2**20, (seconds, peak)


def test_the_shipped_schema_is_the_published_one(case: Path) -> None:
    published = case / "opensalt-case-v1p0-cfpackage-schema.json"
    assert json.loads(SCHEMA.read_text()) == json.loads(published.read_text())
