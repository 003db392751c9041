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

Ed-Fi limits identifiers: a learning standard id to 60 characters (a longer competency code is
cut to 51 and given 8 hexadecimal digits of its SHA-1, so it stays unique and stable) and a
student's unique id to 32 (a longer sourcedId cannot be exported: :class:`~learnway.InputError`
names each). Descriptors Ed-Fi does not define (the mastery statuses, the probability of
mastery) are in Learnway's own namespace, as Ed-Fi allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from learnway._errors import InputError, Problem

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


@dataclass(frozen=True)
class StandardRow:
    code: str
    title: str
    grade: str | None
    parent: str | None


@dataclass(frozen=True)
class MasteryRow:
    student: str  # the student's sourcedId: Ed-Fi's StudentUniqueId
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


def edfi_interchanges(course: CourseExport) -> dict[str, bytes]:
    """The three interchange files, by file name, as UTF-8 XML."""
    long = sorted({m.student for m in course.mastery if len(m.student) > MAX_STUDENT_ID})
    if long:
        raise InputError(
            [
                Problem(
                    course.key,
                    f"student {s}",
                    f"sourcedId is longer than Ed-Fi's {MAX_STUDENT_ID}-character StudentUniqueId",
                )
                for s in long
            ]
        )
    return {
        "Interchange-Standards.xml": _document("InterchangeStandards", _standards(course)),
        "Interchange-AssessmentMetadata.xml": _document(
            "InterchangeAssessmentMetadata", _assessment(course)
        ),
        "Interchange-StudentAssessment.xml": _document(
            "InterchangeStudentAssessment", _student_assessments(course)
        ),
    }


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
        _el(_el(_el(record, "StudentReference"), "StudentIdentity"), "StudentUniqueId", student)
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
