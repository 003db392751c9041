"""The Common Core math framework, read from the real files, and every way it can be bad."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import CCSSM_DIR
from learnway import InputError
from learnway.data import CCSSM
from learnway.frameworks import Competency, Framework, read_ccssm


@pytest.fixture(scope="module")
def ccssm() -> Framework:
    return read_ccssm(CCSSM_DIR)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_reads_every_standard_and_edge(ccssm: Framework) -> None:
    rows = sum(len(_read(CCSSM_DIR / name)) for name in ("ccssm-k8.csv", "ccssm-hs.csv"))
    standards = [c for c in ccssm.competencies if c.kind in ("standard", "substandard")]
    assert len(standards) == rows == 471
    edges = _read(CCSSM_DIR / "ccssm-dependencies.csv")
    assert len(ccssm.prerequisites) == sum(e["relationship"] == "dependency" for e in edges)
    assert len(ccssm.related) == sum(e["relationship"] == "conceptual connection" for e in edges)
    assert ("K.CC.A.1", "1.NBT.A.1") in ccssm.prerequisites
    assert ("K.CC.A.1", "K.CC.A.2") in ccssm.related
    assert ("K.CC.A.1", "K.CC.A.2") not in ccssm.prerequisites


def test_hierarchy_codes_and_text(ccssm: Framework) -> None:
    sub = ccssm["K.CC.B.4.c"]
    assert sub.kind == "substandard" and sub.parent == "K.CC.B.4" and sub.grade == "K"
    assert ccssm["K.CC.B.4"].parent == "K.CC.B"
    assert ccssm["K.CC.B"].parent == "K.CC"
    assert ccssm["K.CC"].title == "Kindergarten: Counting and Cardinality"
    assert ccssm["HSA.APR.A.1"].grade == "HS"
    assert ccssm["K.CC.A.1"].description == "Count to 100 by ones and by tens."


def test_topological_order_respects_every_prerequisite(ccssm: Framework) -> None:
    position = {code: i for i, code in enumerate(ccssm.topological_order())}
    assert len(position) == len(ccssm.competencies)
    assert all(position[a] < position[b] for a, b in ccssm.prerequisites)


def test_shipped_copy_matches_the_shared_data(ccssm: Framework) -> None:
    assert read_ccssm(CCSSM) == ccssm


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "ccssm"
    shutil.copytree(CCSSM_DIR, target)
    for f in target.iterdir():
        f.chmod(0o644)
    return target


def _append(path: Path, line: str) -> None:
    with path.open("a") as handle:
        handle.write(line + "\n")


def _problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_ccssm(folder)
    return [str(p) for p in caught.value.problems]


def test_prerequisite_cycle_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _append(folder / "ccssm-dependencies.csv", "1.NBT.A.1,K.CC.A.1,dependency")
    (problem,) = _problems(folder)
    assert "prerequisite cycle" in problem
    assert "K.CC.A.1 -> 1.NBT.A.1" in problem or "1.NBT.A.1 -> K.CC.A.1" in problem


def test_dangling_reference_names_file_and_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _append(folder / "ccssm-dependencies.csv", "K.CC.A.1,9.ZZ.A.1,dependency")
    (problem,) = _problems(folder)
    assert "ccssm-dependencies.csv" in problem and "line 875" in problem
    assert "unknown standard '9.ZZ.A.1'" in problem


def test_duplicate_code(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _append(folder / "ccssm-k8.csv", "K,CC,A,1,,Count to 100 again.")
    (problem,) = _problems(folder)
    assert "ccssm-k8.csv" in problem and "duplicate code K.CC.A.1" in problem


def test_malformed_rows_are_all_reported(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _append(folder / "ccssm-k8.csv", "K,CC")
    _append(folder / "ccssm-hs.csv", "HS,,RN,A,9,,no category")
    _append(folder / "ccssm-dependencies.csv", "K.CC.A.1,K.CC.A.2,is friends with")
    problems = _problems(folder)
    assert len(problems) == 3
    assert any("ccssm-k8.csv" in p and "wrong number of fields" in p for p in problems)
    assert any("ccssm-hs.csv" in p and "missing category_code" in p for p in problems)
    assert any("unknown relationship 'is friends with'" in p for p in problems)


def test_missing_file(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "ccssm-hs.csv").unlink()
    (problem,) = _problems(folder)
    assert "ccssm-hs.csv" in problem and "file not found" in problem


def test_framework_build_checks_structure() -> None:
    with pytest.raises(InputError) as caught:
        Framework.build(
            origin="test",
            key="t",
            title="t",
            source="",
            license="",
            attribution="",
            competencies=(
                Competency("a", "A"),
                Competency("b", "B", parent="zz"),
                Competency("c", "C", kind="planet", p_learn=1.5),
            ),
            prerequisites=(("a", "a"), ("a", "q")),
        )
    text = str(caught.value)
    for expected in (
        "parent 'zz' does not exist",
        "unknown kind 'planet'",
        "p_learn=1.5 is not in [0, 1]",
        "cannot point to itself",
        "unknown competency 'q'",
    ):
        assert expected in text
