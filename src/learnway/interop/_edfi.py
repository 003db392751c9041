"""Ed-Fi-shaped export of mastery: Ed-Fi Data Standard 5.2 XML interchanges, so that a district's
operational data store can load what Learnway knows about each student.

Learnway's mastery of a course is written the way Ed-Fi describes mastery of learning standards
(see the Ed-Fi sample "AssessmentMetadata-LearningStandardsMastery"):

- ``Interchange-Standards``: one ``LearningStandard`` per competency (its code, title, grade and
  parent), under a ``ContentStandard`` named after the framework, with its source's URI.
- ``Interchange-AssessmentMetadata``: one ``Assessment``, "Learnway mastery: <course>", with one
  ``ObjectiveAssessment`` per competency aligned to its learning standard, and the mastery
  statuses as performance levels.
- ``Interchange-StudentAssessment``: one ``StudentAssessment`` per student, dated at the export,
  with one ``StudentObjectiveAssessment`` per competency the student has evidence on: the
  probability of mastery as a decimal score, the status as the performance level.

- ``Interchange-Descriptors``: every descriptor the other files use (Ed-Fi's grade levels,
  subject and result type, and Learnway's own), so that an ODS that has not seen them can load
  the rest.

Ed-Fi limits identifiers: a learning standard id to 60 characters (a longer competency code is
cut to 51 and given 8 hexadecimal digits of its SHA-1, so it stays unique and stable) and a
student's unique id to 32 (:func:`student_unique_id`: a GUID loses its hyphens, which makes it
32 hexadecimal digits; any other longer id keeps its first 23 characters and 8 hexadecimal
digits of its SHA-1). Which of a student's ids is exported (sourcedId, the roster's
``identifier``, or one of the ``userIds``) is chosen by :func:`learnway.store.mastery_export`.
Descriptors Ed-Fi does not define (the mastery statuses, the probability of mastery) are in
Learnway's own namespace, as Ed-Fi allows. An interchange with nothing to hold (the students
of a course nobody has practised yet) is not written: Ed-Fi's schemas require at least one
record in each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from learnway._errors import InputError, Problem

log = logging.getLogger(__name__)
EDFI = "http://ed-fi.org/5.2.0"
DESCRIPTORS = "uri://ed-fi.org"
OWN = "uri://learnway.org"
NAMESPACE = f"{OWN}/Assessment"
STATUS_NAMES = {  # the mastery statuses (store's MASTERY_STATUSES) as Ed-Fi performance levels
    "not_started": "Not started",
    "practicing": "Practicing",
    "mastered": "Mastered",
    "due_for_review": "Due for review",
    "stuck": "Stuck",
    "likely_known": "Likely known",
}
GRADES = {
    "K": "Kindergarten",
    **{
        str(n): f"{name} grade"
        for n, name in enumerate(
            ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
             "Ninth", "Tenth", "Eleventh", "Twelfth"),
            start=1,
        )
    },
}  # fmt: skip
MAX_STANDARD_ID = 60
MAX_STUDENT_ID = 32
MAX_CONTENT_TITLE = 75
MAX_AUTHOR = 100  # a longer attribution is left out rather than cut
MAX_URI = 255
MAX_CODE_VALUE = 50
MAX_SHORT_DESCRIPTION = 75
_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-"
                   r"([0-9A-Fa-f]{12})\}?$")  # fmt: skip
_DESCRIPTOR = re.compile(r"^(uri://.+/(\w+)Descriptor)#(.+)$")


@dataclass(frozen=True)
class StandardRow:
    code: str
    title: str
    grade: str | None
    parent: str | None


@dataclass(frozen=True)
class MasteryRow:
    student: str  # the student's id chosen for Ed-Fi (sourcedId unless told otherwise)
    code: str
    p_mastery: float
    status: str


@dataclass(frozen=True)
class CourseExport:
    """Everything one export writes, read from the store (``store.mastery_export``)."""

    key: str
    title: str
    source: str
    attribution: str
    subject: str  # an Ed-Fi AcademicSubjectDescriptor value, e.g. "Mathematics"
    standards: Sequence[StandardRow]
    mastery: Sequence[MasteryRow]
    exported_at: dt.datetime


def standard_id(code: str) -> str:
    """The Ed-Fi learning standard id of a competency code (at most 60 characters)."""
    if len(code) <= MAX_STANDARD_ID:
        return code
    return f"{code[:51]}-{hashlib.sha1(code.encode()).hexdigest()[:8]}"


def student_unique_id(student: str) -> str:
    """Ed-Fi's ``StudentUniqueId`` (at most 32 characters) for a student's id: the id itself
    when it fits, a GUID without its hyphens (and braces), else the first 23 characters and 8
    hexadecimal digits of the id's SHA-1; stable from one export to the next."""
    if len(student) <= MAX_STUDENT_ID:
        return student
    guid = _GUID.match(student)
    if guid:
        return "".join(guid.groups())
    return f"{student[:23]}-{hashlib.sha1(student.encode()).hexdigest()[:8]}"


def edfi_interchanges(course: CourseExport) -> dict[str, bytes]:
    """The interchange files, by file name, as UTF-8 XML; one with nothing to hold is left
    out (see the module's docstring)."""
    unique: dict[str, set[str]] = {}
    for student in {m.student for m in course.mastery}:
        unique.setdefault(student_unique_id(student), set()).add(student)
    clashes = sorted(tuple(sorted(ids)) for ids in unique.values() if len(ids) > 1)
    if clashes:
        raise InputError([
            Problem(course.key, f"students {', '.join(ids)}",
                    f"would share the Ed-Fi StudentUniqueId {student_unique_id(ids[0])}")
            for ids in clashes
        ])  # fmt: skip
    parts = {
        "Interchange-Standards.xml": ("InterchangeStandards", _standards(course)),
        "Interchange-AssessmentMetadata.xml": (
            "InterchangeAssessmentMetadata", _assessment(course)
        ),
        "Interchange-StudentAssessment.xml": (
            "InterchangeStudentAssessment", _student_assessments(course)
        ),
    }  # fmt: skip
    parts = {name: part for name, part in parts.items() if part[1]}
    descriptors = _descriptors([element for _, elements in parts.values() for element in elements])
    files = {"Interchange-Descriptors.xml": _document("InterchangeDescriptors", descriptors)}
    files.update({name: _document(root, elements) for name, (root, elements) in parts.items()})
    log.info(
        "Ed-Fi export of %s: %d learning standards, %d students, %d descriptors, %d files",
        course.key, len(course.standards), len(unique), len(descriptors), len(files),
    )  # fmt: skip
    return files


def _descriptors(elements: list[ET.Element]) -> list[ET.Element]:
    """One descriptor element for every descriptor URI the elements use, in URI order."""
    used = sorted({
        node.text for element in elements for node in element.iter()
        if node.text and _DESCRIPTOR.match(node.text)
    })  # fmt: skip
    out = []
    for uri in used:
        match = _DESCRIPTOR.match(uri)
        assert match is not None
        namespace, kind, value = match.groups()
        descriptor = _el(None, f"{kind}Descriptor")
        _el(descriptor, "CodeValue", value[:MAX_CODE_VALUE])
        _el(descriptor, "ShortDescription", value[:MAX_SHORT_DESCRIPTION])
        _el(descriptor, "Namespace", namespace)
        out.append(descriptor)
    return out


def _document(root: str, children: list[ET.Element]) -> bytes:
    top = ET.Element(f"{{{EDFI}}}{root}")
    top.extend(children)
    ET.indent(top)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True, default_namespace=EDFI)


def _el(parent: ET.Element | None, name: str, text: str | None = None) -> ET.Element:
    tag = f"{{{EDFI}}}{name}"
    node = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
    if text is not None:
        node.text = text
    return node


def _descriptor(kind: str, value: str, owner: str = DESCRIPTORS) -> str:
    return f"{owner}/{kind}Descriptor#{value}"


def _assessment_reference(parent: ET.Element, course: CourseExport) -> None:
    identity = _el(_el(parent, "AssessmentReference"), "AssessmentIdentity")
    _el(identity, "AssessmentIdentifier", _assessment_id(course))
    _el(identity, "Namespace", NAMESPACE)


def _assessment_id(course: CourseExport) -> str:
    return standard_id(f"learnway-mastery-{course.key}")


def _standards(course: CourseExport) -> list[ET.Element]:
    out = []
    year = course.exported_at.year
    for row in course.standards:
        standard = _el(None, "LearningStandard")
        _el(standard, "LearningStandardId", standard_id(row.code))
        _el(standard, "Description", row.title[:1024])
        content = _el(standard, "ContentStandard")
        _el(content, "Title", course.title[:MAX_CONTENT_TITLE])
        if 0 < len(course.attribution) <= MAX_AUTHOR:
            _el(content, "Author", course.attribution)
        if "://" in course.source and len(course.source) <= MAX_URI:
            _el(content, "URI", course.source)
        _el(content, "PublicationYear", str(year))
        grade = GRADES.get(row.grade or "", "Ungraded")
        _el(standard, "GradeLevel", _descriptor("GradeLevel", grade))
        _el(standard, "AcademicSubject", _descriptor("AcademicSubject", course.subject))
        if row.parent is not None:
            parent = _el(
                _el(standard, "ParentLearningStandardReference"), "LearningStandardIdentity"
            )
            _el(parent, "LearningStandardId", standard_id(row.parent))
        _el(standard, "Namespace", f"{OWN}/LearningStandard/{course.key}"[:255])
        out.append(standard)
    return out


def _performance_levels(parent: ET.Element) -> None:
    for name in STATUS_NAMES.values():
        level = _el(parent, "AssessmentPerformanceLevel")
        _el(level, "PerformanceLevel", _descriptor("PerformanceLevel", name, OWN))
        _el(level, "AssessmentReportingMethod", _reporting("Mastery status"))


def _reporting(method: str) -> str:
    return _descriptor("AssessmentReportingMethod", method, OWN)


def _assessment(course: CourseExport) -> list[ET.Element]:
    assessment = _el(None, "Assessment")
    _el(assessment, "AssessmentIdentifier", _assessment_id(course))
    _el(assessment, "AssessmentTitle", f"Learnway mastery: {course.title}"[:255])
    _el(assessment, "AssessmentCategory", _descriptor("AssessmentCategory", "Mastery", OWN))
    _el(assessment, "AcademicSubject", _descriptor("AcademicSubject", course.subject))
    score = _el(assessment, "AssessmentScore")
    _el(score, "AssessmentReportingMethod", _reporting("Probability of mastery"))
    _el(score, "MinimumScore", "0")
    _el(score, "MaximumScore", "1")
    _el(score, "ResultDatatypeType", _descriptor("ResultDatatypeType", "Decimal"))
    _performance_levels(assessment)
    _el(assessment, "Namespace", NAMESPACE)
    out = [assessment]
    for row in course.standards:
        objective = _el(None, "ObjectiveAssessment")
        _el(objective, "IdentificationCode", standard_id(row.code))
        _el(objective, "Description", row.title[:1024])
        reference = _el(_el(objective, "LearningStandardReference"), "LearningStandardIdentity")
        _el(reference, "LearningStandardId", standard_id(row.code))
        _assessment_reference(objective, course)
        out.append(objective)
    return out


def _student_assessments(course: CourseExport) -> list[ET.Element]:
    by_student: dict[str, list[MasteryRow]] = {}
    for row in course.mastery:
        by_student.setdefault(row.student, []).append(row)
    when = course.exported_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()
    out = []
    for student, rows in sorted(by_student.items()):
        record = _el(None, "StudentAssessment")
        identifier = hashlib.sha1(f"{course.key}/{student}/{when}".encode()).hexdigest()[:60]
        _el(record, "StudentAssessmentIdentifier", identifier)
        _el(record, "AdministrationDate", when)
        unique_id = student_unique_id(student)
        _el(_el(_el(record, "StudentReference"), "StudentIdentity"), "StudentUniqueId", unique_id)
        _assessment_reference(record, course)
        for row in sorted(rows, key=lambda r: r.code):
            objective = _el(record, "StudentObjectiveAssessment")
            result = _el(objective, "ScoreResult")
            _el(result, "Result", f"{row.p_mastery:.4f}")
            _el(result, "ResultDatatypeType", _descriptor("ResultDatatypeType", "Decimal"))
            _el(result, "AssessmentReportingMethod", _reporting("Probability of mastery"))
            level = _el(objective, "PerformanceLevel")
            status = STATUS_NAMES[row.status]
            _el(level, "PerformanceLevel", _descriptor("PerformanceLevel", status, OWN))
            _el(level, "AssessmentReportingMethod", _reporting("Mastery status"))
            identity = _el(
                _el(objective, "ObjectiveAssessmentReference"), "ObjectiveAssessmentIdentity"
            )
            _el(identity, "IdentificationCode", standard_id(row.code))
            _assessment_reference(identity, course)
        out.append(record)
    return out
