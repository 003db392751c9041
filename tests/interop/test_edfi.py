"""The Ed-Fi-shaped export of the demo school's mastery, validated against the Ed-Fi Data
Standard 5.2 bulk XSDs (in ../shared, read only by the tests)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from sqlalchemy import Engine, func, select

from learnway import InputError
from learnway.interop import edfi_interchanges
from learnway.interop._edfi import EDFI, MasteryRow, standard_id
from learnway.store import mastery_export, transaction
from learnway.store._schema import CompetencyRow, FrameworkRow, Mastery

NS = {"e": EDFI}


@pytest.fixture(scope="module")
def schemas(shared: Path) -> dict[str, xmlschema.XMLSchema]:
    folder = shared / "interop" / "edfi" / "Schemas" / "Bulk"
    names = ("Standards", "AssessmentMetadata", "StudentAssessment")
    return {
        f"Interchange-{n}.xml": xmlschema.XMLSchema(str(folder / f"Interchange-{n}.xsd"))
        for n in names
    }


def _course(engine: Engine) -> int:
    with transaction(engine) as session:
        found = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%")))
    assert found is not None
    return found


def test_the_demo_school_exports_valid_interchanges_holding_every_mastery_row(
    demo_engine: Engine, schemas: dict[str, xmlschema.XMLSchema]
) -> None:
    framework_id = _course(demo_engine)
    with transaction(demo_engine) as session:
        exported = mastery_export(session, framework_id)
        stored = session.execute(
            select(func.count(), func.count(func.distinct(Mastery.student_id)))
            .select_from(Mastery)
            .join(CompetencyRow, CompetencyRow.id == Mastery.competency_id)
            .where(CompetencyRow.framework_id == framework_id)
        ).one()
        competencies = session.scalar(
            select(func.count()).where(CompetencyRow.framework_id == framework_id)
        )
    files = edfi_interchanges(exported)
    for name, data in files.items():
        errors = list(schemas[name].iter_errors(io.BytesIO(data)))
        assert errors == [], (name, str(errors[0])[:500])

    standards = ET.fromstring(files["Interchange-Standards.xml"])
    ids = [e.text for e in standards.iterfind("e:LearningStandard/e:LearningStandardId", NS)]
    assert len(ids) == len(set(ids)) == competencies
    assert all(i is not None and len(i) <= 60 for i in ids)

    students = ET.fromstring(files["Interchange-StudentAssessment.xml"])
    records = students.findall("e:StudentAssessment", NS)
    objectives = students.findall("e:StudentAssessment/e:StudentObjectiveAssessment", NS)
    assert (len(objectives), len(records)) == tuple(stored) and len(records) > 50
    # each score is the stored probability, on the competency it belongs to
    expected = {(m.student, standard_id(m.code)): m.p_mastery for m in exported.mastery}
    for record in records[:5]:
        student = record.findtext("e:StudentReference/e:StudentIdentity/e:StudentUniqueId", "", NS)
        for objective in record.iterfind("e:StudentObjectiveAssessment", NS):
            code = objective.findtext(".//e:IdentificationCode", "", NS)
            score = float(objective.findtext("e:ScoreResult/e:Result", "nan", NS))
            assert score == pytest.approx(expected[(student, code)], abs=5e-5)


def test_ids_that_ed_fi_cannot_hold(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        exported = mastery_export(session, _course(demo_engine))
    long_code = "x" * 70
    assert len(standard_id(long_code)) == 60 and standard_id(long_code) != standard_id("x" * 71)
    too_long = replace(
        exported, mastery=[*exported.mastery, MasteryRow("s" * 33, long_code, 0.5, "practicing")]
    )
    with pytest.raises(InputError, match="longer than Ed-Fi's 32-character StudentUniqueId"):
        edfi_interchanges(too_long)
