"""The school's data: schema, migrations, engines, imports, the attempt log, and the bridge
from stored evidence to the learner model and planner (``_progress``)."""

from learnway.store._assignment import (
    Condition,
    condition_of,
    hint_limit,
    item_variant,
    planner_config,
)
from learnway.store._attempts import AttemptIn, AttemptReport, record_attempts
from learnway.store._calendar import section_calendar
from learnway.store._calibrate import (
    BUILD_JOB,
    CalibrationReport,
    attempt_table,
    build_model,
    build_model_job,
    calibrate_course,
)
from learnway.store._engine import (
    current_revision,
    has_schema,
    make_engine,
    make_session,
    normalize_url,
    transaction,
    upgrade,
)
from learnway.store._experiments import (
    OUTCOMES,
    ExperimentError,
    analyze_experiment,
    define_experiment,
    exclude_student,
    finish_experiment,
    launch_experiment,
    monitor,
)
from learnway.store._export import mastery_export
from learnway.store._jobs import enqueue, run_one, run_pending, work
from learnway.store._load import ImportReport, save_course, save_framework
from learnway.store._progress import (
    course_of_student,
    day_of,
    learner_state,
    live_course_of_student,
    load_course,
    load_framework,
    moment_of,
)
from learnway.store._roster import find_users, save_roster
from learnway.store._roster_export import roster_export
from learnway.store._state import (
    MASTERED_NAMES,
    REPLAY_JOB,
    STATUS_NAMES,
    LiveCourse,
    active_version,
    columns_of_steps,
    daily_growth,
    live_course,
    live_versions,
    load_state,
    mastered_counts,
    rebuild_job,
    recommend,
    record_practice,
    replay_job,
    replay_students,
    updating_students,
)

JOB_HANDLERS = {REPLAY_JOB: replay_job, "rebuild": rebuild_job, BUILD_JOB: build_model_job}
"""The store's background jobs by kind, for :func:`run_one`, :func:`run_pending`, :func:`work`."""

__all__ = [
    "BUILD_JOB",
    "JOB_HANDLERS",
    "MASTERED_NAMES",
    "OUTCOMES",
    "REPLAY_JOB",
    "STATUS_NAMES",
    "AttemptIn",
    "AttemptReport",
    "CalibrationReport",
    "Condition",
    "ExperimentError",
    "ImportReport",
    "LiveCourse",
    "active_version",
    "analyze_experiment",
    "attempt_table",
    "build_model",
    "build_model_job",
    "calibrate_course",
    "columns_of_steps",
    "condition_of",
    "course_of_student",
    "current_revision",
    "daily_growth",
    "day_of",
    "define_experiment",
    "enqueue",
    "exclude_student",
    "find_users",
    "finish_experiment",
    "has_schema",
    "hint_limit",
    "item_variant",
    "launch_experiment",
    "learner_state",
    "live_course",
    "live_course_of_student",
    "live_versions",
    "load_course",
    "load_framework",
    "load_state",
    "make_engine",
    "make_session",
    "mastered_counts",
    "mastery_export",
    "moment_of",
    "monitor",
    "normalize_url",
    "planner_config",
    "rebuild_job",
    "recommend",
    "record_attempts",
    "record_practice",
    "replay_job",
    "replay_students",
    "roster_export",
    "run_one",
    "run_pending",
    "save_course",
    "save_framework",
    "save_roster",
    "section_calendar",
    "transaction",
    "updating_students",
    "upgrade",
    "work",
]
