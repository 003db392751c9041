"""OneRoster's CSV vocabulary as Learnway reads it (the columns of each file and version, the
required values, the value sets, the role mapping), and the validated records a bundle becomes
(:class:`Roster`), shared by the reader (``_oneroster``), the writer (``_oneroster_write``) and
the store."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from learnway._errors import Problem

_COMMON = ("sourcedId", "status", "dateLastModified")
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.1": {
        "orgs": (*_COMMON, "name", "type", "identifier", "parentSourcedId"),
        "academicSessions": (
            *_COMMON, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear",
        ),
        "courses": (
            *_COMMON, "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
            "subjects", "subjectCodes",
        ),
        "classes": (
            *_COMMON, "title", "grades", "courseSourcedId", "classCode", "classType", "location",
            "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
        ),
        "users": (
            *_COMMON, "enabledUser", "orgSourcedIds", "role", "username", "userIds",
            "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password",
        ),
        "enrollments": (
            *_COMMON, "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary",
            "beginDate", "endDate",
        ),
        "demographics": (
            *_COMMON, "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
            "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
            "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
            "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus",
        ),
    },
}  # fmt: skip
COLUMNS["1.2"] = {
    **COLUMNS["1.1"],
    "users": (
        *_COMMON, "enabledUser", "username", "userIds", "givenName", "familyName", "middleName",
        "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password",
        "userMasterIdentifier", "preferredGivenName", "preferredMiddleName",
        "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
    ),
    "roles": (
        *_COMMON, "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId",
        "userProfileSourcedId",
    ),
}  # fmt: skip

# OneRoster 1.0 names of columns that 1.1 renamed
OLD_NAMES = {
    "userId": "userIds",
    "schoolYearId": "schoolYearSourcedId",
    "grade": "grades",
    "agents": "agentSourcedIds",
}
# Columns whose absence has a meaning: status active, enabled, no modification time; a
# session's school year is the year its end date falls in.
DEFAULTED = {"status", "dateLastModified", "enabledUser", "schoolYear"}
EXTENSION = re.compile(r"^(ext_|metadata\.)")
REQUIRED = {
    "orgs": ("name", "type"),
    "academicSessions": ("title", "type", "startDate", "endDate", "schoolYear"),
    "courses": ("title", "orgSourcedId"),
    "classes": ("title", "courseSourcedId", "schoolSourcedId", "termSourcedIds"),
    "users": ("enabledUser", "username", "givenName", "familyName"),
    "enrollments": ("classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "demographics": (),
    "roles": ("userSourcedId", "roleType", "role", "orgSourcedId"),
}
# The longest value Learnway stores from each column (the length of its database column).
LIMITS = {
    **dict.fromkeys(
        ("sourcedId", "name", "identifier", "title", "courseCode", "classCode", "username",
         "givenName", "familyName", "cityOfBirth", "publicSchoolResidenceStatus"),
        255,
    ),
    "email": 320,
    "sex": 20,
    "countryOfBirthCode": 8,
    "stateOfBirthAbbreviation": 8,
}  # fmt: skip
ORG_TYPES = {"department", "school", "district", "local", "state", "national"}
SESSION_TYPES = {"gradingPeriod", "semester", "schoolYear", "term"}
ENROLLMENT_ROLES = {"administrator", "proctor", "student", "teacher", "aide", "guardian"}
GUARDIAN_ROLES = {"parent", "guardian", "relative"}
# OneRoster role -> Learnway role (``administrator`` depends on its org's type, see below)
ROLE_MAP = {
    "student": "student",
    "teacher": "teacher",
    "aide": "teacher",
    **{role: "guardian" for role in GUARDIAN_ROLES},
    "principal": "school_admin",
    "siteAdministrator": "school_admin",
    "districtAdministrator": "district_admin",
}
NO_ACCESS_ROLES = {"proctor", "counselor", "systemAdministrator"}
DEMOGRAPHIC_FLAGS = (
    "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)  # fmt: skip


@dataclass(frozen=True)
class OrgRecord:
    sourced_id: str
    name: str
    type: str  # district or school
    identifier: str | None
    parent: str | None
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class SessionRecord:
    sourced_id: str
    title: str
    type: str
    start_date: dt.date
    end_date: dt.date
    school_year: int
    parent: str | None
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class CourseRecord:
    sourced_id: str
    title: str
    course_code: str | None
    org: str
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class ClassRecord:
    sourced_id: str
    title: str
    class_code: str | None
    course: str
    school: str
    term: str  # the first of termSourcedIds
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class UserRecord:
    sourced_id: str
    username: str
    given_name: str
    family_name: str
    email: str | None
    role: str  # a Learnway role; ``administrator`` until its org's type is known
    org: str
    grade: str | None
    enabled: bool
    agents: tuple[str, ...]
    guardian_relation: str | None  # parent, guardian or relative, for guardians
    identifier: str | None = None
    user_ids: tuple[tuple[str, str], ...] = ()  # (type, identifier) from userIds
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class EnrollmentRecord:
    sourced_id: str
    section: str
    user: str
    role: str  # student, teacher or aide
    primary: bool
    begin_date: dt.date | None
    end_date: dt.date | None
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass(frozen=True)
class DemographicsRecord:
    user: str
    birth_date: dt.date | None
    sex: str | None
    flags: dict[str, bool | None]  # the race and ethnicity flags, by OneRoster name
    country_of_birth_code: str | None
    state_of_birth_abbreviation: str | None
    city_of_birth: str | None
    public_school_residence_status: str | None
    extensions: dict[str, str] = field(default_factory=dict)  # ext_, metadata. and others


@dataclass
class Roster:
    """The validated content of a bundle, in Learnway's terms."""

    title: str
    version: str
    orgs: list[OrgRecord] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)
    courses: list[CourseRecord] = field(default_factory=list)
    classes: list[ClassRecord] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    enrollments: list[EnrollmentRecord] = field(default_factory=list)
    demographics: list[DemographicsRecord] = field(default_factory=list)
    removed: dict[str, list[str]] = field(default_factory=dict)  # tobedeleted, by file
    delta: set[str] = field(default_factory=set)  # the files that hold changes only
    absent: set[str] = field(default_factory=set)  # the files read that the bundle lacks
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, sourcedId, why)
    warnings: list[Problem] = field(default_factory=list)  # what was tolerated, and where
    strict: bool = False  # read with strict=True: save_roster tolerates nothing either
