"""Read the Common Core State Standards for Mathematics (K-8 and high school) with their
prerequisite ("dependency") and related ("conceptual connection") edges.

The input is a folder with ``ccssm-k8.csv``, ``ccssm-hs.csv`` and ``ccssm-dependencies.csv``
(the layout of the flywheelmath/ccssm data, MIT; standards text under the CCSS public license).
Codes follow that data: ``K.CC.B.4``, ``K.CC.B.4.c``, ``HSA.APR.A.1``.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from learnway._errors import InputError, Problem
from learnway.frameworks._model import Competency, Framework

GRADE_NAMES = {"K": "Kindergarten", "HS": "High school"} | {
    str(g): f"Grade {g}" for g in range(1, 9)
}

DOMAIN_NAMES = {
    "CC": "Counting and Cardinality",
    "OA": "Operations and Algebraic Thinking",
    "NBT": "Number and Operations in Base Ten",
    "NF": "Number and Operations - Fractions",
    "MD": "Measurement and Data",
    "G": "Geometry",
    "RP": "Ratios and Proportional Relationships",
    "NS": "The Number System",
    "EE": "Expressions and Equations",
    "F": "Functions",
    "SP": "Statistics and Probability",
    # high school: category letter + domain
    "N.RN": "The Real Number System",
    "N.Q": "Quantities",
    "N.CN": "The Complex Number System",
    "N.VM": "Vector and Matrix Quantities",
    "A.SSE": "Seeing Structure in Expressions",
    "A.APR": "Arithmetic with Polynomials and Rational Expressions",
    "A.CED": "Creating Equations",
    "A.REI": "Reasoning with Equations and Inequalities",
    "F.IF": "Interpreting Functions",
    "F.BF": "Building Functions",
    "F.LE": "Linear, Quadratic, and Exponential Models",
    "F.TF": "Trigonometric Functions",
    "G.CO": "Congruence",
    "G.SRT": "Similarity, Right Triangles, and Trigonometry",
    "G.C": "Circles",
    "G.GPE": "Expressing Geometric Properties with Equations",
    "G.GMD": "Geometric Measurement and Dimension",
    "G.MG": "Modeling with Geometry",
    "S.ID": "Interpreting Categorical and Quantitative Data",
    "S.IC": "Making Inferences and Justifying Conclusions",
    "S.CP": "Conditional Probability and the Rules of Probability",
    "S.MD": "Using Probability to Make Decisions",
}

FILES = ("ccssm-k8.csv", "ccssm-hs.csv", "ccssm-dependencies.csv")
_RELATIONSHIPS = {"dependency", "conceptual connection"}
LICENSE = "MIT (data); standards text under the CCSS public license"
ATTRIBUTION = (
    "Common Core State Standards for Mathematics, (c) National Governors Association Center for "
    "Best Practices and Council of Chief State School Officers; standards data and dependencies "
    "from flywheelmath/ccssm (MIT), derived from jeffbaumes/standards (Apache-2.0)."
)


def read_ccssm(directory: str | Path) -> Framework:
    """Read and validate the framework; raise :class:`InputError` listing every problem."""
    folder = Path(directory)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise InputError([Problem(str(folder / m), "", "file not found") for m in missing])

    problems: list[Problem] = []
    competencies: dict[str, Competency] = {}
    for name, high_school in (("ccssm-k8.csv", False), ("ccssm-hs.csv", True)):
        for line, row in _rows(folder / name, problems):
            made = _standard(row, high_school, f"{name}", line, problems)
            for c in made:
                if c.code in competencies and c.kind in ("standard", "substandard"):
                    problems.append(Problem(name, f"line {line}", f"duplicate code {c.code}"))
                competencies.setdefault(c.code, c)

    prerequisites: list[tuple[str, str]] = []
    related: list[tuple[str, str]] = []
    name = "ccssm-dependencies.csv"
    for line, row in _rows(folder / name, problems):
        source, target = row.get("source") or "", row.get("target") or ""
        relationship = (row.get("relationship") or "").strip()
        record = f"line {line} ({source} -> {target})"
        if relationship not in _RELATIONSHIPS:
            problems.append(Problem(name, record, f"unknown relationship {relationship!r}"))
            continue
        for end in (source, target):
            if end not in competencies:
                problems.append(Problem(name, record, f"unknown standard {end!r}"))
        edges = prerequisites if relationship == "dependency" else related
        edges.append((source, target))
    if problems:
        raise InputError(problems)

    ordered = sorted(competencies.values(), key=_sort_key)
    return Framework.build(
        origin=str(folder / name),
        key="ccssm",
        title="Common Core State Standards for Mathematics",
        source="https://github.com/flywheelmath/ccssm",
        license=LICENSE,
        attribution=ATTRIBUTION,
        competencies=tuple(replace(c, sequence=i) for i, c in enumerate(ordered)),
        prerequisites=tuple(dict.fromkeys(prerequisites)),
        related=tuple(dict.fromkeys(related)),
    )


def _rows(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [(i + 2, row) for i, row in enumerate(reader)]
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(path.name, "", f"cannot read the file: {exc}"))
        return []
    good = []
    for line, row in rows:
        if None in row or any(v is None for v in row.values()):
            problems.append(Problem(path.name, f"line {line}", "wrong number of fields"))
        else:
            good.append((line, row))
    return good


def _standard(
    row: dict[str, str], high_school: bool, source: str, line: int, problems: list[Problem]
) -> list[Competency]:
    """The standard in one row, preceded by its domain and cluster (created on first sight)."""
    need = ["grade_level_code", "domain_code", "cluster_code", "standard_counter", "description"]
    if high_school:
        need.append("category_code")
    empty = [k for k in need if not (row.get(k) or "").strip()]
    if empty:
        problems.append(Problem(source, f"line {line}", f"missing {', '.join(empty)}"))
        return []
    grade = row["grade_level_code"].strip()
    domain = row["domain_code"].strip()
    if high_school:
        category = row["category_code"].strip()
        domain_code = f"HS{category}.{domain}"
        domain_name = DOMAIN_NAMES.get(f"{category}.{domain}", domain_code)
    else:
        domain_code = f"{grade}.{domain}"
        domain_name = DOMAIN_NAMES.get(domain, domain_code)
    cluster_code = f"{domain_code}.{row['cluster_code'].strip()}"
    standard_code = f"{cluster_code}.{row['standard_counter'].strip()}"
    sub = (row.get("substandard_counter") or "").strip()
    description = row["description"].strip()
    made = [
        Competency(
            code=domain_code,
            title=f"{GRADE_NAMES.get(grade, grade)}: {domain_name}",
            kind="domain",
            grade=grade,
        ),
        Competency(
            code=cluster_code,
            title=f"{domain_name}, cluster {row['cluster_code'].strip()}",
            kind="cluster",
            grade=grade,
            parent=domain_code,
        ),
    ]
    if sub:
        made.append(
            Competency(
                code=f"{standard_code}.{sub}",
                title=f"{standard_code}.{sub}",
                description=description,
                kind="substandard",
                grade=grade,
                parent=standard_code,
            )
        )
    else:
        made.append(
            Competency(
                code=standard_code,
                title=standard_code,
                description=description,
                kind="standard",
                grade=grade,
                parent=cluster_code,
            )
        )
    return made


_GRADE_ORDER = {"K": 0, **{str(g): g for g in range(1, 9)}, "HS": 9}


def _sort_key(c: Competency) -> tuple[int, list[object]]:
    parts = c.code.replace("HS", "", 1).split(".")
    return (_GRADE_ORDER.get(c.grade or "", 10), [int(p) if p.isdigit() else p for p in parts])
