"""The Ed-Fi-shaped export of the demo school's mastery, validated against the Ed-Fi Data
Standard 5.2 bulk XSDs (in ../shared, read only by the tests). The shared set has no
descriptors interchange for 5.2, so the test writes one the way Ed-Fi writes theirs (one
element of each descriptor type of Ed-Fi-Core.xsd, any number of them) around the 5.2 core."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from sqlalchemy import Engine, func, select

from learnway import InputError
from learnway.interop import edfi_interchanges
from learnway.interop._edfi import EDFI, MasteryRow, standard_id, student_unique_id
from learnway.store import mastery_export, transaction
from learnway.store._schema import CompetencyRow, FrameworkRow, Mastery, User, UserIdentifier

NS = {"e": EDFI}


@pytest.fixture(scope="module")
def schemas(
    shared: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, xmlschema.XMLSchema]:
    folder = shared / "interop" / "edfi" / "Schemas" / "Bulk"
    names = ("Standards", "AssessmentMetadata", "StudentAssessment")
    out = {
        f"Interchange-{n}.xml": xmlschema.XMLSchema(str(folder / f"Interchange-{n}.xsd"))
        for n in names
    }
    core = (folder / "Ed-Fi-Core.xsd").read_text()
    kinds = sorted(set(re.findall(r'<xs:complexType name="(\w+Descriptor)">', core)))
    assert len(kinds) > 200
    choices = "".join(f'<xs:element name="{k}" type="{k}" />' for k in kinds)
    interchange = tmp_path_factory.mktemp("edfi") / "Interchange-Descriptors.xsd"
    interchange.write_text(
        '<?xml version="1.0" encoding="UTF-8" ?>'
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="http://ed-fi.org/5.2.0" '
        'targetNamespace="http://ed-fi.org/5.2.0" elementFormDefault="qualified" '
        'attributeFormDefault="unqualified">'
        f'<xs:include schemaLocation="{(folder / "Ed-Fi-Core.xsd").as_uri()}" />'
        '<xs:element name="InterchangeDescriptors"><xs:complexType>'
        f'<xs:choice maxOccurs="unbounded">{choices}</xs:choice>'
        "</xs:complexType></xs:element></xs:schema>"
    )
    out["Interchange-Descriptors.xml"] = xmlschema.XMLSchema(str(interchange))
    return out


def _valid(files: dict[str, bytes], schemas: dict[str, xmlschema.XMLSchema]) -> None:
    for name, data in files.items():
        errors = list(schemas[name].iter_errors(io.BytesIO(data)))
        assert errors == [], (name, str(errors[0])[:500])


def _used_descriptors(files: dict[str, bytes]) -> set[str]:
    """Every descriptor URI in the files other than the descriptors interchange."""
    return {
        node.text
        for name, data in files.items()
        if name != "Interchange-Descriptors.xml"
        for node in ET.fromstring(data).iter()
        if node.text and re.match(r"^uri://.+Descriptor#", node.text)
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
    assert len(files) == 4
    _valid(files, schemas)
    descriptors = ET.fromstring(files["Interchange-Descriptors.xml"])
    written = {
        f"{d.findtext('e:Namespace', '', NS)}#{d.findtext('e:CodeValue', '', NS)}"
        for d in descriptors
    }
    assert written == _used_descriptors(files)  # every descriptor used, and only those
    assert "uri://learnway.org/PerformanceLevelDescriptor#Mastered" in written
    assert "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics" in written

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


def test_ids_longer_than_ed_fi_holds_export_stably_and_validly(
    demo_engine: Engine, schemas: dict[str, xmlschema.XMLSchema]
) -> None:
    long_code = "x" * 70
    assert len(standard_id(long_code)) == 60 and standard_id(long_code) != standard_id("x" * 71)
    guid = str(uuid.UUID("6f1c2b0e-8d4a-4c1e-9b7a-2f3e4d5c6b7a"))
    assert student_unique_id(guid) == "6f1c2b0e8d4a4c1e9b7a2f3e4d5c6b7a"
    assert student_unique_id("{" + guid.upper() + "}") == "6F1C2B0E8D4A4C1E9B7A2F3E4D5C6B7A"
    long_id = "district-7/school-12/student-000123"
    assert len(student_unique_id(long_id)) == 32 and student_unique_id(long_id) == (
        student_unique_id(long_id)
    )
    assert student_unique_id("s-1") == "s-1"
    with transaction(demo_engine) as session:  # every demo student gets a GUID sourcedId
        students = list(session.scalars(select(User).where(User.role == "student")))
        for student in students:
            student.sourced_id = str(uuid.uuid5(uuid.NAMESPACE_URL, student.sourced_id))
    with transaction(demo_engine) as session:
        exported = mastery_export(session, _course(demo_engine))
    files = edfi_interchanges(exported)
    _valid(files, schemas)
    ids = {
        e.text
        for e in ET.fromstring(files["Interchange-StudentAssessment.xml"]).iter(
            f"{{{EDFI}}}StudentUniqueId"
        )
    }
    assert ids == {m.student.replace("-", "") for m in exported.mastery} and len(ids) > 50
    clash = replace(
        exported,
        mastery=[
            MasteryRow(guid, long_code, 0.5, "practicing"),
            MasteryRow(guid.replace("-", ""), long_code, 0.5, "practicing"),
        ],
    )
    with pytest.raises(InputError, match="would share the Ed-Fi StudentUniqueId"):
        edfi_interchanges(clash)


def test_students_export_under_the_id_the_district_chooses(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        students = list(session.scalars(select(User).where(User.role == "student")))
        for n, student in enumerate(students):
            student.identifier = f"SSN{n:05d}"
            if n % 2 == 0:
                session.add(UserIdentifier(user_id=student.id, type="SIS", identifier=f"S{n}"))
        by_sourced = {s.sourced_id: s.identifier for s in students}
    framework_id = _course(demo_engine)
    with transaction(demo_engine) as session:
        plain = mastery_export(session, framework_id)
        numbered = mastery_export(session, framework_id, student_id="identifier")
        assert [by_sourced[m.student] for m in plain.mastery] == [
            m.student for m in numbered.mastery
        ]
        with pytest.raises(InputError) as refused:
            mastery_export(session, framework_id, student_id="userIds:SIS")
        assert "has no userIds:SIS to export to Ed-Fi" in str(refused.value)
        for n, student in enumerate(students):
            if n % 2 == 1:
                session.add(UserIdentifier(user_id=student.id, type="SIS", identifier=f"S{n}"))
        session.flush()
        sis = mastery_export(session, framework_id, student_id="userIds:SIS")
        assert {m.student for m in sis.mastery} <= {f"S{n}" for n in range(len(students))}
        assert len(sis.mastery) == len(plain.mastery)
        with pytest.raises(ValueError, match="use one of sourcedId, identifier"):
            mastery_export(session, framework_id, student_id="email")


def test_a_course_nobody_has_practised_writes_only_valid_files(
    demo_engine: Engine, schemas: dict[str, xmlschema.XMLSchema]
) -> None:
    """Ed-Fi's interchanges hold at least one record: an empty one is not written."""
    with transaction(demo_engine) as session:
        exported = mastery_export(session, _course(demo_engine))
    files = edfi_interchanges(replace(exported, mastery=[]))
    assert sorted(files) == [
        "Interchange-AssessmentMetadata.xml",
        "Interchange-Descriptors.xml",
        "Interchange-Standards.xml",
    ]
    _valid(files, schemas)
    bare = edfi_interchanges(replace(exported, mastery=[], standards=[]))
    assert sorted(bare) == ["Interchange-AssessmentMetadata.xml", "Interchange-Descriptors.xml"]
    _valid(bare, schemas)
