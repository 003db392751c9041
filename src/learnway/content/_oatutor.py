"""Read a course in OATutor's native content format, from a ``.tar.gz`` or a folder.

Layout: ``coursePlans.json`` (courses -> lessons -> learning objectives, i.e. skills with a
mastery threshold), ``skillModel.json`` (step id -> skills), ``bktParams.json`` (skill ->
default BKT parameters) and ``content-pool/<problem>/<problem>.json`` with
``steps/<step>/<step>.json`` and ``steps/<step>/tutoring/<step>DefaultPathway.json`` (hints).

Mapping to Learnway (see docs/architecture.md): each lesson becomes a competency of kind
``lesson`` and each skill a competency of kind ``skill`` whose parent is the first lesson
that lists it. Where Learnway ships an alignment of the course to the Common Core
(``data/alignment``), the prerequisites come from the standards' graph through that alignment,
plus the order within a lesson (:func:`learnway.paths.aligned_prerequisites`), and the skills of
a lesson follow the alignment's order; otherwise the skills of each lesson are prerequisites of
the skills of the next lesson. Skill and lesson names are cleaned (:func:`clean_name`), and
every change is logged. Problems become items, steps stay steps, hints and scaffolds keep their
dependencies, the skill model becomes step alignments and the BKT parameters per-skill priors.
"""

from __future__ import annotations

import json
import logging
import re
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from learnway._errors import InputError, Problem
from learnway.content._model import ANSWER_TYPES, PROBLEM_TYPES, Course, Hint, Item, Step
from learnway.frameworks import Competency, Framework

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as work advances."""

_OER = re.compile(r"^\s*(?P<url>\S+)\s*<(?P<name>[^>]*)>\s*$")


def read_oatutor(
    path: str | Path, *, course: str | None = None, progress: Progress | None = None
) -> Course:
    """Read and validate one course; ``course`` names it when the package holds several.

    ``progress(stage, done, total)`` is called as problems are read, for a progress bar.

    Raises :class:`InputError` with every problem found (file and record named).
    """
    files = _read_files(Path(path))
    origin = str(path)
    plans = _json(files, "coursePlans.json", origin)
    skill_model = _json(files, "skillModel.json", origin)
    bkt = _json(files, "bktParams.json", origin)
    if not isinstance(plans, list) or not plans:
        raise InputError.one(origin, "coursePlans.json", "expected a non-empty list of courses")
    chosen = [p for p in plans if course is None or p.get("courseName") == course]
    if len(chosen) != 1:
        names = [p.get("courseName") for p in plans]
        raise InputError.one(origin, "coursePlans.json", f"choose one course of {names}")
    plan = chosen[0]

    problems: list[Problem] = []
    framework, lesson_codes = _framework(plan, bkt, origin, problems)
    items = _items(files, skill_model, lesson_codes, framework, origin, problems, progress)
    if problems:
        raise InputError(problems)
    return Course(
        key=framework.key,
        title=plan["courseName"],
        language=plan.get("language", "en"),
        source=framework.source,
        license=framework.license,
        attribution=framework.attribution,
        framework=framework,
        items=items,
    )


def _read_files(path: Path) -> dict[str, bytes]:
    """Every JSON file of the package, keyed by its path below the package root."""
    raw: dict[str, bytes] = {}
    if path.is_dir():
        for file in path.rglob("*.json"):
            raw[file.relative_to(path).as_posix()] = file.read_bytes()
    elif path.is_file():
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:
                    if member.isfile() and member.name.endswith(".json"):
                        handle = tar.extractfile(member)
                        if handle is not None:
                            raw[member.name] = handle.read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise InputError.one(str(path), "", f"truncated or corrupt archive: {exc}") from exc
    else:
        raise InputError.one(str(path), "", "no such file or folder")
    roots = [PurePosixPath(name).parent for name in raw if name.endswith("coursePlans.json")]
    if len(roots) != 1:
        raise InputError.one(str(path), "coursePlans.json", "expected exactly one in the package")
    root = roots[0]
    return {
        PurePosixPath(name).relative_to(root).as_posix(): data
        for name, data in raw.items()
        if PurePosixPath(name).is_relative_to(root)
    }


def _json(files: dict[str, bytes], name: str, origin: str) -> Any:
    if name not in files:
        raise InputError.one(origin, name, "file missing from the package")
    try:
        return json.loads(files[name])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.one(origin, name, f"not valid JSON: {exc}") from exc


def _oer(text: str) -> tuple[str, str]:
    """``"https://x <Name>"`` -> ``("https://x", "Name")``."""
    match = _OER.match(text or "")
    return (match["url"], match["name"]) if match else (text.strip(), "")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _framework(
    plan: dict[str, Any], bkt: dict[str, Any], origin: str, problems: list[Problem]
) -> tuple[Framework, dict[str, str]]:
    lessons = plan.get("lessons") or []
    title = plan.get("courseName", "")
    key = "oatutor-" + _slug(title)
    alignment = _alignment(key, problems)
    aligned_order = {a.skill: i for i, a in enumerate(alignment or ())}
    competencies: list[Competency] = []
    prerequisites: list[tuple[str, str]] = []
    lesson_codes: dict[str, str] = {}
    homed: set[str] = set()
    previous: list[str] = []
    changes: list[tuple[str, str, str]] = []
    for position, lesson in enumerate(lessons):
        record = f"coursePlans.json lesson {lesson.get('name', position)!r}"
        if not lesson.get("id") or not lesson.get("name"):
            problems.append(Problem(origin, record, "lesson without id or name"))
            continue
        code = "lesson-" + _slug(lesson["name"].removeprefix("Lesson "))
        lesson_codes[lesson["id"]] = code
        raw_title = lesson.get("topics") or lesson["name"]
        lesson_title = _LESSON_FIXES.get(raw_title, raw_title)
        if lesson_title != raw_title:
            changes.append((code, raw_title, lesson_title))
        competencies.append(Competency(code=code, title=lesson_title, kind="lesson"))
        home: list[str] = []
        objectives = (lesson.get("learningObjectives") or {}).items()
        if alignment is not None:
            objectives = sorted(objectives, key=lambda kv: aligned_order.get(kv[0], -1))
        for skill, threshold in objectives:
            if skill in homed:
                continue
            homed.add(skill)
            home.append(skill)
            priors = bkt.get(skill) or {}
            if not priors:
                problems.append(Problem(origin, f"bktParams.json {skill}", "no BKT parameters"))
            before = skill.replace("_", " ").replace(":", "").capitalize()
            after = clean_name(skill)
            if after != before:
                changes.append((skill, before, after))
            competencies.append(
                Competency(
                    code=skill,
                    title=after,
                    kind="skill",
                    parent=code,
                    mastery_threshold=_probability(threshold),
                    p_init=_probability(priors.get("probMastery")),
                    p_learn=_probability(priors.get("probTransit")),
                    p_guess=_probability(priors.get("probGuess")),
                    p_slip=_probability(priors.get("probSlip")),
                )
            )
        if alignment is None:
            prerequisites += [(before, after) for before in previous for after in home]
        previous = home or previous
    _report_names(origin, changes, [c.title for c in competencies])
    skills = [c.code for c in competencies if c.kind == "skill"]
    if alignment is not None:
        prerequisites = _aligned_edges(key, skills, alignment, problems)
    source, _ = _oer(plan.get("courseOER", ""))
    license_url, license_name = _oer(plan.get("courseLicense", ""))
    framework = Framework.build(
        origin=origin,
        key=key,
        title=title,
        source=source,
        license=license_name or license_url,
        attribution=(
            f"{title}, from OpenStax (openstax.org), licensed {license_name or license_url}; "
            "problems, hints and skill model from OATutor (oatutor.io), CC BY 4.0."
        ),
        competencies=tuple(replace(c, sequence=i) for i, c in enumerate(competencies)),
        prerequisites=tuple(prerequisites),
    )
    return framework, lesson_codes


def _alignment(key: str, problems: list[Problem]) -> tuple[Any, ...] | None:
    """The shipped Common Core alignment of the course, if Learnway ships one."""
    from learnway.paths import read_alignment, shipped_alignment

    path = shipped_alignment(key)
    if path is None:
        return None
    try:
        return read_alignment(path)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _aligned_edges(
    key: str, skills: list[str], alignment: tuple[Any, ...], problems: list[Problem]
) -> list[tuple[str, str]]:
    """Prerequisites from the Common Core graph through the course's alignment."""
    from learnway.data import CCSSM
    from learnway.frameworks import read_ccssm
    from learnway.paths import aligned_prerequisites, check_alignment, shipped_alignment

    standards = read_ccssm(CCSSM)
    found = check_alignment(alignment, skills, standards, str(shipped_alignment(key)))
    if found:
        problems.extend(found)
        return []
    edges = aligned_prerequisites(skills, alignment, standards)
    logger.info(
        "%s: %d prerequisites from the Common Core through the alignment (%d from the "
        "standards' edges, %d from the order within lessons, before reduction; %d edges of the "
        "standards against the course's order left out)",
        key,
        len(edges.edges),
        edges.from_standards,
        edges.from_lessons,
        edges.against_course_order,
    )
    return list(edges.edges)


# Skills that OATutor's skill model split at the commas of one learning objective, and a
# lesson title cut short: each named here as the objective it is part of says.
_NAME_FIXES = {
    "identify_integers": "Identify integers",
    "rational_numbers": "Identify rational numbers",
    "irrational_numbers": "Identify irrational numbers",
    "and_real_numbers": "Identify real numbers",
    "convert_decimals": "Convert decimals to percents",
    "fractions": "Convert fractions to decimals and percents",
    "and_percents": "Convert percents to decimals",
    "use_the_distance": "Find a distance with the distance, rate and time formula",
    "rate": "Find a rate with the distance, rate and time formula",
    "and_time_formula": "Find a time with the distance, rate and time formula",
    "monomials": "Identify monomials",
    "binomials": "Identify binomials",
    "and_trinomials": "Identify trinomials",
    "binomials_and_trinomials": "Identify binomials and trinomials",
    "factor_trinomials_of_the_form_x**2+bx+c": (
        "Factor trinomials of the form x^2 + bx + c with positive b and c"
    ),
    "factor_trinomials_of_the_form_x**2_+_bx_+_c": "Factor trinomials of the form x^2 + bx + c",
    "add_and_subtract_decimals": "Add and subtract decimals",
    "add_or_subtract_decimals.": "Add or subtract decimals with different places",
}
_LESSON_FIXES = {
    "Factor Trinomials with Leading Coefficient Oth": (
        "Factor Trinomials with Leading Coefficient Other than 1"
    ),
}
_PROPER = {
    "u.s.": "U.S.",
    "fahrenheit": "Fahrenheit",
    "celsius": "Celsius",
    "gaussian": "Gaussian",
    "gcf": "GCF",
    "lcd": "LCD",
}
_FRAGMENT = re.compile(r"^(and|or|but)\b|\b(and|or)$", re.IGNORECASE)


def clean_name(skill: str) -> str:
    """A readable title for an OATutor skill code.

    The skill model writes objectives as identifiers (``use_m=rise/run_...``, ``x**2``,
    ``x__and_y__intercepts``, ``a(x___h)**2``, trailing dots) and splits some objectives at
    their commas (``and_real_numbers``); pieces of a split objective are named as the objective
    they belong to says, the rest is rewritten by rule.
    """
    if skill in _NAME_FIXES:
        return _NAME_FIXES[skill]
    text = skill.strip().rstrip(".").replace(":", "")
    text = text.replace("___", " - ").replace("**", "^")
    text = re.sub(r"([a-z])__and_", r"\1- and ", text)
    text = re.sub(r"([a-z])__", r"\1-", text)
    text = re.sub(r"\s+", " ", text.replace("_", " ")).strip()
    words = [_PROPER.get(w.lower(), w.lower()) for w in text.split(" ")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def looks_broken(title: str) -> bool:
    """Whether a name still reads as a piece of a split objective (starts or ends with a
    conjunction)."""
    return bool(_FRAGMENT.search(title.strip()))


def _report_names(origin: str, changes: list[tuple[str, str, str]], titles: list[str]) -> None:
    """Log every name the import changed, and every name that still looks broken."""
    for code, before, after in changes:
        logger.info("%s: name of %s cleaned: %r -> %r", origin, code, before, after)
    if changes:
        logger.info("%s: %d skill and lesson names cleaned", origin, len(changes))
    for title in titles:
        if looks_broken(title):
            logger.warning("%s: the name %r still looks broken", origin, title)


def _items(
    files: dict[str, bytes],
    skill_model: dict[str, list[str]],
    lesson_codes: dict[str, str],
    framework: Framework,
    origin: str,
    problems: list[Problem],
    progress: Progress | None,
) -> tuple[Item, ...]:
    problem_files = sorted(
        name
        for name in files
        if name.startswith("content-pool/") and name.count("/") == 2 and name.endswith(".json")
    )
    items: list[Item] = []
    for done, name in enumerate(problem_files, start=1):
        if progress is not None and (done % 100 == 0 or done == len(problem_files)):
            progress("reading problems", done, len(problem_files))
        folder = name.rsplit("/", 1)[0]
        try:
            data = json.loads(files[name])
            item = _item(data, folder, files, skill_model, lesson_codes, framework, problems)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(origin, name, f"malformed problem: {exc!r}"))
            continue
        if item is not None:
            items.append(item)
    if not items and not problems:
        problems.append(Problem(origin, "content-pool", "no problems in the package"))
    return tuple(items)


def _item(
    data: dict[str, Any],
    folder: str,
    files: dict[str, bytes],
    skill_model: dict[str, list[str]],
    lesson_codes: dict[str, str],
    framework: Framework,
    problems: list[Problem],
) -> Item | None:
    source_file = f"{folder}/{data['id']}.json"
    lesson = lesson_codes.get(data.get("lessonId", ""))
    if lesson is None:
        problems.append(Problem(source_file, data["id"], f"unknown lesson {data.get('lesson')!r}"))
    step_names = sorted(n for n in files if n.startswith(f"{folder}/steps/") and n.count("/") == 4)
    steps = []
    for position, step_name in enumerate(step_names):
        raw = json.loads(files[step_name])
        skills = tuple(skill_model.get(raw["id"], ()))
        record = f"step {raw['id']}"
        if not skills:
            problems.append(Problem(step_name, record, "step has no skill in skillModel.json"))
        unknown = [s for s in skills if s not in framework]
        if unknown:
            problems.append(Problem(step_name, record, f"unknown skill(s) {unknown}"))
        _check_kinds(raw, step_name, record, problems)
        tutoring = f"{step_name.rsplit('/', 1)[0]}/tutoring/{raw['id']}DefaultPathway.json"
        raw_hints = json.loads(files[tutoring]) if tutoring in files else []
        hints = tuple(_hint(h, tutoring, problems) for h in raw_hints)
        steps.append(
            Step(
                key=raw["id"],
                position=position,
                prompt=raw.get("stepTitle", ""),
                body=raw.get("stepBody", ""),
                problem_type=raw["problemType"],
                answer_type=raw.get("answerType", "string"),
                answers=tuple(str(a) for a in raw["stepAnswer"]),
                competencies=skills,
                choices=tuple(str(c) for c in raw.get("choices") or ()),
                answer_latex=raw.get("answerLatex"),
                hints=hints,
            )
        )
    if not steps:
        problems.append(Problem(source_file, data["id"], "problem without steps"))
    # A hint may build on a hint of an earlier step of the same problem.
    hint_keys = {h.key for s in steps for h in s.hints}
    for step in steps:
        for hint in step.hints:
            for dep in hint.depends_on:
                if dep not in hint_keys:
                    record = f"hint {hint.key}"
                    problems.append(Problem(source_file, record, f"depends on unknown hint {dep}"))
    if lesson is None or not steps:
        return None
    source, source_name = _oer(data.get("oer", ""))
    license_url, license_name = _oer(data.get("license", ""))
    return Item(
        key=data["id"],
        title=data.get("title", ""),
        body=data.get("body", ""),
        lesson=lesson,
        source=source,
        license=license_name or license_url,
        attribution=(
            f"From {source_name or source}, licensed {license_name or license_url}; "
            "hints by OATutor (oatutor.io), CC BY 4.0."
        ),
        steps=tuple(steps),
    )


def _hint(raw: dict[str, Any], name: str, problems: list[Problem]) -> Hint:
    kind = raw.get("type", "hint")
    if kind not in ("hint", "scaffold"):
        problems.append(Problem(name, f"hint {raw.get('id')}", f"unknown hint type {kind!r}"))
    if kind == "scaffold":
        _check_kinds(raw, name, f"scaffold {raw.get('id')}", problems)
    return Hint(
        key=raw["id"],
        kind=kind,
        title=raw.get("title", ""),
        text=raw.get("text", ""),
        depends_on=tuple(raw.get("dependencies") or ()),
        problem_type=raw.get("problemType"),
        answer_type=raw.get("answerType"),
        answers=tuple(str(a) for a in raw.get("hintAnswer") or ()),
        choices=tuple(str(c) for c in raw.get("choices") or ()),
        sub_hints=tuple(_hint(s, name, problems) for s in raw.get("subHints") or ()),
    )


def _check_kinds(raw: dict[str, Any], name: str, record: str, problems: list[Problem]) -> None:
    if raw.get("problemType") not in PROBLEM_TYPES:
        problems.append(Problem(name, record, f"unknown problemType {raw.get('problemType')!r}"))
    if raw.get("answerType", "string") not in ANSWER_TYPES:
        problems.append(Problem(name, record, f"unknown answerType {raw.get('answerType')!r}"))
    answers = raw.get("stepAnswer", raw.get("hintAnswer"))
    if not answers or not isinstance(answers, list):
        problems.append(Problem(name, record, "no answer"))


def _probability(value: Any) -> float | None:
    return None if value is None else float(value)
