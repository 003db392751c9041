"""Read a CASE 1.0 framework package (``CFPackage`` JSON: CFDocument, CFItems, CFAssociations)
into a :class:`learnway.frameworks.Framework`.

- The framework's key is ``case-`` and the CFDocument's identifier; its source the document's
  URI (or official source URL), its licence the licence's title, its attribution the creator and
  publisher.
- Each CFItem is a competency. Its code is its ``humanCodingScheme`` where the package gives one
  that no other item uses, else its identifier; its title the ``fullStatement``, its description
  the ``notes``; its kind the ``CFItemType`` where that is one of Learnway's kinds (domain,
  cluster, standard, ...), else ``standard``; its grade the first ``educationLevel``.
- ``isChildOf`` associations give the hierarchy (a child of the CFDocument has no parent), and
  the order: depth first, siblings by ``sequenceNumber``, then ``listEnumeration``, then
  ``humanCodingScheme`` in natural order (``L1.2`` before ``L1.10``), then package order.
  ``precedes`` associations are prerequisites (origin before destination) and ``isRelatedTo``
  associations related edges. Associations of other types, and those that
  point outside the package, carry nothing Learnway uses and are left out.

The package is first validated against the CASE 1.0 CFPackage JSON Schema (shipped in
``learnway/data/case``); then every problem (missing fields, a repeated identifier, an
association to an item that is not there, an ``isChildOf`` cycle, a prerequisite cycle) is
collected into one :class:`~learnway.InputError`. Two things real frameworks do are tolerated
with a warning instead: an item without an ``isChildOf`` association is placed under the
document, after its other children, and a framework without items is read as an empty one.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from learnway._errors import InputError, Problem
from learnway._limits import DEFAULT_LIMITS, Limits, load_json
from learnway.data import DATA
from learnway.frameworks import KINDS, Competency, Framework

log = logging.getLogger(__name__)
SCHEMA = DATA / "case" / "case-v1p0-cfpackage-schema.json"
MAX_TITLE = 255  # the longest framework title the database stores
MAX_SCHEMA_PROBLEMS = 50  # schema problems listed; a package far from CASE would list thousands
# siblings sort by sequenceNumber, listEnumeration, humanCodingScheme (naturally), package order
Rank = tuple[float, float, tuple[tuple[int, int, str], ...], int]


def read_case(
    path: str | Path,
    *,
    warnings: list[Problem] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Framework:
    """Read and validate a CASE 1.0 CFPackage JSON file; what is tolerated (see the module's
    docstring) is added to ``warnings`` when a list is given, and logged."""
    source = Path(path)
    origin = source.name
    try:
        size = source.stat().st_size
        if size > limits.max_file:
            raise InputError.one(origin, "", f"holds {size:,} bytes (at most {limits.max_file:,})")
        package = load_json(source.read_text(encoding="utf-8"), origin, limits)
    except FileNotFoundError:
        raise InputError.one(str(source), "", "no such file") from None
    except UnicodeDecodeError as error:
        raise InputError.one(origin, "", f"not a JSON file: {error}") from None
    _validate(package, origin)
    told: list[Problem] = []
    problems: list[Problem] = []

    def problem(record: str, message: str) -> None:
        problems.append(Problem(origin, record, message))

    document = package.get("CFDocument") if isinstance(package, dict) else None
    if not isinstance(document, dict) or not document.get("identifier"):
        raise InputError.one(origin, "CFDocument", "missing, or without an identifier")
    for name in ("title", "creator"):
        if not isinstance(document.get(name), str) or not document[name].strip():
            problem("CFDocument", f"{name} is missing")
    if len(document.get("title") or "") > MAX_TITLE:
        problem("CFDocument", f"title is longer than {MAX_TITLE} characters")
    root = document["identifier"]

    items: dict[str, dict[str, Any]] = {}
    for position, item in enumerate(_list(package, "CFItems")):
        identifier = item.get("identifier") if isinstance(item, dict) else None
        record = f"CFItems[{position}]" + (f" ({identifier})" if identifier else "")
        if not identifier:
            problem(record, "identifier is missing")
        elif identifier in items or identifier == root:
            problem(record, f"identifier {identifier} is used twice")
        elif not isinstance(item.get("fullStatement"), str) or not item["fullStatement"].strip():
            problem(record, "fullStatement is missing")
        else:
            items[identifier] = {**item, "_position": position}

    children: dict[str, list[tuple[Rank, str]]] = defaultdict(list)
    parent_of: dict[str, str] = {}
    prerequisites: list[tuple[str, str]] = []
    related: list[tuple[str, str]] = []
    for position, association in enumerate(_list(package, "CFAssociations")):
        record = f"CFAssociations[{position}]"
        if not isinstance(association, dict):
            problem(record, "is not an object")
            continue
        kind = association.get("associationType")
        origin_id = _node(association, "originNodeURI")
        destination_id = _node(association, "destinationNodeURI")
        if kind is None or origin_id is None or destination_id is None:
            problem(record, "associationType, originNodeURI or destinationNodeURI is missing")
            continue
        if kind == "isChildOf":
            if origin_id not in items or (destination_id not in items and destination_id != root):
                problem(record, "isChildOf an item or document that is not in the package")
            elif origin_id in parent_of:
                problem(record, f"{origin_id} is the child of two parents")
            else:
                parent_of[origin_id] = destination_id
                item = items[origin_id]
                rank = (
                    _number(association.get("sequenceNumber")),
                    _number(item.get("listEnumeration")),
                    _natural(str(item.get("humanCodingScheme") or "")),
                    item["_position"],
                )
                children[destination_id].append((rank, origin_id))
        elif kind in ("precedes", "isRelatedTo") and origin_id in items and destination_id in items:
            (prerequisites if kind == "precedes" else related).append((origin_id, destination_id))

    for identifier, item in items.items():
        if identifier not in parent_of:
            parent_of[identifier] = root
            rank = (float("inf"), float("inf"), ((2, 0, ""),), item["_position"])
            children[root].append((rank, identifier))
            told.append(Problem(origin, identifier, "has no isChildOf association: placed "
                                "under the document, after its other items"))  # fmt: skip
    order = _depth_first(root, children)
    for identifier in items:
        if identifier not in order:
            problem(identifier, "its isChildOf associations form a cycle")
    if not items:
        told.append(Problem(origin, "CFItems", "the framework has no items: it is read empty"))
    if problems:
        log.info("refused %s: %d problem(s)", origin, len(problems))
        raise InputError(problems)
    for warning in told:
        log.info("tolerated in %s", warning)
    if warnings is not None:
        warnings.extend(told)

    human = {i: str(item.get("humanCodingScheme") or "").strip() for i, item in items.items()}
    uses = Counter(human.values())
    code_of = {i: code if code and uses[code] == 1 else i for i, code in human.items()}
    competencies = []
    for sequence, identifier in enumerate(order):
        item = items[identifier]
        kind = str(item.get("CFItemType") or "").strip().lower()
        levels = item.get("educationLevel") or []
        parent = parent_of[identifier]
        competencies.append(
            Competency(
                code=code_of[identifier],
                title=item["fullStatement"].strip(),
                description=str(item.get("notes") or "").strip(),
                kind=kind if kind in KINDS else "standard",
                grade=str(levels[0])[:8] if isinstance(levels, list) and levels else None,
                parent=None if parent == root else code_of[parent],
                sequence=sequence,
            )
        )
    licence = document.get("licenseURI")
    attribution = ", ".join(
        str(document[name]).strip() for name in ("creator", "publisher") if document.get(name)
    )
    framework = Framework.build(
        origin=origin,
        key=f"case-{root}",
        title=document["title"].strip(),
        source=document.get("officialSourceURL") or document.get("uri") or origin,
        license=licence.get("title", "") if isinstance(licence, dict) else "",
        attribution=attribution,
        competencies=tuple(competencies),
        prerequisites=tuple((code_of[a], code_of[b]) for a, b in prerequisites),
        related=tuple((code_of[a], code_of[b]) for a, b in related),
    )
    log.info(
        "read %s: %d competencies, %d prerequisites, %d related, %d tolerance(s)",
        origin, len(competencies), len(prerequisites), len(related), len(told),
    )  # fmt: skip
    return framework


@cache
def _schema_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)(schema)


def _validate(package: Any, origin: str) -> None:
    """Refuse a package that the CASE 1.0 CFPackage JSON Schema refuses, naming each place."""
    errors = sorted(_schema_validator().iter_errors(package), key=lambda e: list(e.path))
    if not errors:
        return
    problems = []
    for error in errors[:MAX_SCHEMA_PROBLEMS]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        problems.append(Problem(origin, where.lstrip(".") or "package", f"CASE schema: {message}"))
    if len(errors) > MAX_SCHEMA_PROBLEMS:
        problems.append(Problem(origin, "", f"... and {len(errors) - MAX_SCHEMA_PROBLEMS} more "
                                "schema problem(s)"))  # fmt: skip
    log.info("refused %s: not a CASE 1.0 package (%d schema problems)", origin, len(errors))
    raise InputError(problems)


def _list(package: dict[str, Any], name: str) -> list[Any]:
    value = package.get(name, [])
    return value if isinstance(value, list) else []


def _node(association: dict[str, Any], name: str) -> str | None:
    node = association.get(name)
    identifier = node.get("identifier") if isinstance(node, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


def _number(value: object) -> float:
    """A sort key: the number in ``value``, or after every number when there is none."""
    try:
        return float(str(value))
    except ValueError:
        return float("inf")


def _natural(code: str) -> tuple[tuple[int, int, str], ...]:
    """``L1.2`` before ``L1.10``: numbers compare as numbers, the rest as text."""
    parts = re.findall(r"\d+|\D+", code)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _depth_first(root: str, children: dict[str, list[tuple[Rank, str]]]) -> list[str]:
    """Every item reachable from the document, parents before children, siblings in order."""
    order: list[str] = []
    stack = [root]
    seen = {root}
    while stack:
        node = stack.pop()
        if node != root:
            order.append(node)
        for _, child in sorted(children.get(node, []), reverse=True):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return order
