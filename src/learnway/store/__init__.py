"""The school's data: schema, migrations, engines, imports, the attempt log, and the bridge
from stored evidence to the learner model and planner (``_progress``)."""

from learnway.store._attempts import AttemptIn, AttemptReport, record_attempts
from learnway.store._calibrate import CalibrationReport, attempt_table, calibrate_course
from learnway.store._engine import (
    current_revision,
    has_schema,
    make_engine,
    make_sessionmaker,
    normalize_url,
    transaction,
    upgrade,
)
from learnway.store._export import mastery_export
from learnway.store._load import ImportReport, save_course, save_framework
from learnway.store._progress import (
    course_of_student,
    day_of,
    learner_state,
    load_course,
    load_framework,
    recommend,
    record_practice,
    refresh_mastery,
)
from learnway.store._roster import find_users, save_roster
from learnway.store._roster_export import roster_export

__all__ = [
    "AttemptIn",
    "AttemptReport",
    "CalibrationReport",
    "ImportReport",
    "attempt_table",
    "calibrate_course",
    "course_of_student",
    "current_revision",
    "day_of",
    "find_users",
    "has_schema",
    "learner_state",
    "load_course",
    "load_framework",
    "make_engine",
    "make_sessionmaker",
    "mastery_export",
    "normalize_url",
    "recommend",
    "record_attempts",
    "record_practice",
    "refresh_mastery",
    "roster_export",
    "save_course",
    "save_framework",
    "save_roster",
    "transaction",
    "upgrade",
]
