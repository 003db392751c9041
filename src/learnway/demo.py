"""The demo school: a district, one school, a teacher with three sections of about 30
students, guardians and administrators, learner profiles, and the shipped content.

Everything is generated from a seed, so two demo databases built with the same seed hold
the same people. Building is idempotent: an existing demo school is reused.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from learnway.content import Course as ContentCourse
from learnway.content import read_oatutor
from learnway.content._oatutor import Progress
from learnway.data import CCSSM, ELEMENTARY_ALGEBRA
from learnway.frameworks import read_ccssm
from learnway.paths import CourseGraph
from learnway.sim import simulate_history
from learnway.store import (
    AttemptIn,
    define_experiment,
    finish_experiment,
    launch_experiment,
    live_course,
    mastered_counts,
    record_attempts,
    replay_students,
    transaction,
    upgrade,
)
from learnway.store._load import ImportReport, save_course, save_framework
from learnway.store._schema import (
    AcademicSession,
    Accommodation,
    Activity,
    ActivityAlignment,
    Attempt,
    CompetencyRow,
    Course,
    Demographics,
    Enrollment,
    Experiment,
    ExperimentAssignment,
    ExperimentExposure,
    FrameworkRow,
    Guardianship,
    ItemRow,
    Org,
    Profile,
    Section,
    StepRow,
    Support,
    User,
)

DISTRICT = "demo-district"
SECTION_SIZES = (30, 31, 29)

FIRST_NAMES = (
    "Aaliyah Aarav Abigail Adrian Aisha Alejandro Amara Andre Anika Ava Benjamin Bianca Caleb "
    "Camila Carlos Chloe Daniel Deja Diego Dylan Elena Elijah Emeka Emma Ethan Fatima Gabriel "
    "Grace Hana Hassan Isabella Isaiah Jada Jamal Jasmine Javier Jayden Kai Keisha Kenji Layla "
    "Leah Liam Lucas Luis Malik Maria Mateo Maya Mei Mohammed Nadia Naomi Noah Nia Olivia Omar "
    "Priya Rafael Riya Rosa Samir Santiago Sara Sofia Tariq Thanh Valentina Wei Xavier Yara "
    "Yusuf Zara Zoe"
).split()
LAST_NAMES = (
    "Adeyemi Alvarez Anderson Baker Bui Chen Clark Cruz Davis Diaz Edwards Flores Garcia Gomez "
    "Gupta Hernandez Hill Ibrahim Jackson Johnson Kim Lee Lopez Martin Martinez Mendoza Miller "
    "Moore Nakamura Nguyen Okafor Ortiz Patel Perez Ramirez Reyes Rivera Robinson Sanchez Singh "
    "Smith Tanaka Taylor Thomas Thompson Torres Tran Walker Washington White Williams Wilson "
    "Wright Yamamoto Young"
).split()
INTERESTS = (
    "sports",
    "music",
    "art",
    "video games",
    "animals",
    "space",
    "cooking",
    "fashion",
    "coding",
    "building things",
    "reading",
    "nature",
)
ACCOMMODATIONS = (
    ("extended time", "1.5x time on timed practice and checks"),
    ("read aloud", "text-to-speech for problem statements"),
    ("reduced set", "fewer practice problems per skill when mastery is shown"),
)
SUPPORT_KINDS = ("tutoring", "mentoring", "counselling", "health")


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    users: dict[str, int]
    sections: int
    competencies: int
    items: int
    attempts: int
    sign_in: dict[str, str]
    imports: list[tuple[str, ImportReport]]


def school_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """The school year holding ``today``: mid-August to mid-June."""
    start_year = today.year if today.month >= 8 else today.year - 1
    return dt.date(start_year, 8, 17), dt.date(start_year + 1, 6, 11)


def build_demo(
    engine: Engine,
    *,
    seed: int = 7,
    today: dt.date | None = None,
    history_days: int = 21,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create the demo school in the database behind ``engine``, or reuse it if present.

    A new school gets ``history_days`` days of simulated practice (see :mod:`learnway.sim`)
    ending yesterday, so that every view has data on first start.
    ``progress(stage, done, total)`` reports the stages, for a progress bar.
    """
    stages = ["standards", "course", "school", "practice history"]

    def stage(done: int) -> None:
        if progress is not None:
            progress(stages[min(done, len(stages) - 1)], done, len(stages))

    stage(0)
    upgrade(engine)
    imports = []
    with transaction(engine) as session:
        imports.append(("ccssm", save_framework(session, read_ccssm(CCSSM))))
    stage(1)
    course = read_oatutor(ELEMENTARY_ALGEBRA)
    with transaction(engine) as session:
        imports.append((course.key, save_course(session, course)))
    stage(2)
    with transaction(engine) as session:
        created = session.scalar(select(Org.id).where(Org.sourced_id == DISTRICT)) is None
        if created:
            _create_school(session, course.key, seed, today or dt.date.today())
    stage(3)
    if created and history_days > 0:
        with transaction(engine) as session:
            _practice_history(session, course, seed, history_days, today or dt.date.today())
        with transaction(engine) as session:
            _demo_evidence(session, seed, today or dt.date.today())
    stage(4)
    with transaction(engine) as session:
        return _summary(session, created, imports)


def _create_school(session: Session, framework_key: str, seed: int, today: dt.date) -> None:
    rng = np.random.default_rng(seed)
    district = Org(sourced_id=DISTRICT, name="Learnway Demo District", type="district")
    session.add(district)
    session.flush()
    school = Org(
        sourced_id="demo-school",
        name="Riverbend Middle School",
        type="school",
        parent_id=district.id,
    )
    session.add(school)
    session.flush()
    start, end = school_year(today)
    year = AcademicSession(
        sourced_id=f"demo-sy-{start.year}",
        title=f"School year {start.year}-{end.year}",
        type="schoolYear",
        start_date=start,
        end_date=end,
        school_year=end.year,
    )
    session.add(year)
    framework_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == framework_key))
    course = Course(
        sourced_id="demo-course-algebra",
        title="Elementary Algebra",
        course_code="ALG1",
        org_id=school.id,
        framework_id=framework_id,
    )
    session.add(course)
    session.flush()

    _reading_activities(session, framework_id)

    def person(key: str, role: str, given: str, family: str, org: Org, **extra: object) -> User:
        user = User(
            sourced_id=f"demo-{key}",
            username=key,
            given_name=given,
            family_name=family,
            email=f"{key}@riverbend.example.org",
            role=role,
            org_id=org.id,
            **extra,
        )
        session.add(user)
        return user

    teacher = person("teacher", "teacher", "Maya", "Okafor", school)
    person("principal", "school_admin", "Daniel", "Reyes", school)
    person("district", "district_admin", "Grace", "Nakamura", district)
    session.flush()

    names = _unique_names(rng, sum(SECTION_SIZES))
    students: list[User] = []
    for number, (given, family) in enumerate(names, start=1):
        students.append(person(f"student{number:02d}", "student", given, family, school, grade="8"))
    session.flush()

    guardians = [
        person(f"guardian{n:02d}", "guardian", str(rng.choice(FIRST_NAMES)), s.family_name, school)
        for n, s in enumerate(students, start=1)
    ]
    session.flush()
    session.execute(
        insert(Guardianship),
        [
            {"guardian_id": g.id, "student_id": s.id}
            for g, s in zip(guardians, students, strict=True)
        ],
    )

    first = 0
    for period, size in enumerate(SECTION_SIZES, start=1):
        section = Section(
            sourced_id=f"demo-section-{period}",
            title=f"Elementary Algebra, period {period}",
            class_code=f"ALG1-P{period}",
            course_id=course.id,
            school_id=school.id,
            term_id=year.id,
            deadline=end,
        )
        session.add(section)
        session.flush()
        members = [(teacher, "teacher")] + [(s, "student") for s in students[first : first + size]]
        first += size
        session.execute(
            insert(Enrollment),
            [
                {
                    "sourced_id": f"demo-enr-{section.id}-{user.id}",
                    "section_id": section.id,
                    "user_id": user.id,
                    "role": role,
                    "primary": role == "teacher",
                    "begin_date": start,
                }
                for user, role in members
            ],
        )

    session.execute(insert(Demographics), [_demographics(rng, s.id) for s in students])
    session.execute(
        insert(Profile),
        [
            {"student_id": s.id, "interests": sorted(rng.choice(INTERESTS, 2, replace=False))}
            for s in students
        ],
    )
    for s in students:
        if rng.random() < 0.12:
            kind, description = ACCOMMODATIONS[rng.integers(len(ACCOMMODATIONS))]
            session.add(Accommodation(student_id=s.id, kind=kind, description=description))
        if rng.random() < 0.18:
            began = start + dt.timedelta(days=int(rng.integers(0, 60)))
            session.add(
                Support(
                    student_id=s.id,
                    kind=str(rng.choice(SUPPORT_KINDS)),
                    provider="Riverbend student services",
                    start_date=began,
                )
            )


def _reading_activities(session: Session, framework_id: int | None) -> None:
    """One textbook reading per lesson of the course, aligned to the lesson's skills, so that
    teachers have activities (not only practice) to assign."""
    framework = session.get(FrameworkRow, framework_id)
    if framework is None:
        return
    lessons = session.scalars(
        select(CompetencyRow)
        .where(CompetencyRow.framework_id == framework_id, CompetencyRow.kind == "lesson")
        .order_by(CompetencyRow.sequence)
    ).all()
    skills = session.execute(
        select(CompetencyRow.parent_id, CompetencyRow.id).where(
            CompetencyRow.framework_id == framework_id, CompetencyRow.kind == "skill"
        )
    ).all()
    for lesson in lessons:
        number = lesson.code.removeprefix("lesson-").replace("-", ".")
        activity = Activity(
            key=f"openstax-reading-{lesson.code}", title=f"Read {number}: {lesson.title}",
            kind="reading", modality="independent", minutes=20, url=framework.source,
            description=f"Section {number} of Elementary Algebra 2e (OpenStax), with its worked "
            "examples; read it before practising the section's skills.",
            license="CC BY 4.0", attribution=framework.attribution,
        )  # fmt: skip
        session.add(activity)
        session.flush()
        aligned = [
            {"activity_id": activity.id, "competency_id": c} for p, c in skills if p == lesson.id
        ]
        if aligned:
            session.execute(insert(ActivityAlignment), aligned)


def _practice_history(
    session: Session, course: ContentCourse, seed: int, days: int, today: dt.date
) -> None:
    """Simulated students follow the planner for ``days`` days; their attempts are stored
    (source ``simulation``) and their mastery computed from them."""
    graph = CourseGraph.from_course(course)
    students = session.scalars(
        select(User.id).where(User.role == "student").order_by(User.username)
    ).all()
    start = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(9, 0))
    history = simulate_history(graph, len(students), days, seed, start=start)
    step_ids = dict(session.execute(select(StepRow.key, StepRow.id)).all())
    history = history[history["step"].isin(list(step_ids))]
    counter = history.groupby("student").cumcount()
    stamps = history["timestamp"].dt.round("us").dt.tz_localize(dt.UTC)
    attempts = [
        AttemptIn(
            id=f"demo-{students[s]}-{n}", student_id=students[s], step_id=step_ids[step],
            correct=bool(correct), timestamp=stamp.to_pydatetime(), source="simulation",
            hints_used=int(hints), duration_s=round(float(duration), 1),
        )
        for s, n, step, correct, hints, duration, stamp in zip(
            history["student"], counter, history["step"], history["correct"],
            history["hints_used"], history["duration_s"], stamps, strict=True,
        )
    ]  # fmt: skip
    record_attempts(session, attempts, all_or_nothing=True)
    framework_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == course.key))
    assert framework_id is not None
    replay_students(
        session, live_course(session, graph, framework_id), list(students),
        now=dt.datetime.combine(today, dt.time(8, 0), tzinfo=dt.UTC),
    )  # fmt: skip


def _demo_evidence(session: Session, seed: int, today: dt.date) -> None:
    """Evidence on first start: tutoring started by slow growers within the practice history
    (so its efficacy can be estimated), one finished experiment with its frozen result and one
    running (a teacher-delivered intervention, so the product itself does not change), with
    the exposures of the students who practised since it started."""
    rng = np.random.default_rng(seed + 1)
    students = session.scalars(
        select(User.id).where(User.role == "student").order_by(User.username)
    ).all()
    mastered = mastered_counts(session, list(students))
    slow = sorted(students, key=lambda s: (mastered[s], s))[: max(len(students) // 5, 12)]
    for sid in slow:
        session.add(
            Support(
                student_id=sid, kind="tutoring", provider="Riverbend after-school tutoring",
                start_date=today - dt.timedelta(days=int(rng.integers(4, 11))),
            )
        )  # fmt: skip
    principal = session.scalar(select(User).where(User.username == "principal"))
    sections = sorted(session.scalars(select(Section.id)))
    assert principal is not None

    def define(key: str, title: str, kind: str, days: tuple[int, int], arms: list[str],
               settings: dict[str, object]) -> Experiment:  # fmt: skip
        return define_experiment(
            session, key=key, title=title, kind=kind, unit="student",
            conditions=[{"name": arms[0], "share": 1},
                        {"name": arms[1], "share": 1, "settings": settings}],
            control=arms[0], population={"sections": sections}, outcome="mastery_per_hour",
            start_date=today + dt.timedelta(days=days[0]),
            end_date=today + dt.timedelta(days=days[1]), created_by=principal,
            stratify="section",
        )  # fmt: skip

    finished = define(
        "demo-spaced-review", "Spaced review on or off", "review_schedule", (-20, -6),
        ["review on", "review off"], {"review": False},
    )  # fmt: skip
    launched = dt.datetime.combine(finished.start_date, dt.time(7, 0), tzinfo=dt.UTC)
    launch_experiment(session, finished, now=launched)
    ended = dt.datetime.combine(finished.end_date, dt.time(23, 0), tzinfo=dt.UTC)
    finish_experiment(session, finished, now=ended)
    running = define(
        "demo-check-ins", "Weekly check-ins with the teacher", "intervention", (-7, 21),
        ["usual", "weekly check-in"], {"check_in": "weekly"},
    )  # fmt: skip
    launch_experiment(
        session, running,
        now=dt.datetime.combine(running.start_date, dt.time(7, 0), tzinfo=dt.UTC),
    )  # fmt: skip
    since = dt.datetime.combine(running.start_date, dt.time(), tzinfo=dt.UTC)
    condition = dict(
        session.execute(
            select(ExperimentAssignment.student_id, ExperimentAssignment.condition).where(
                ExperimentAssignment.experiment_id == running.id
            )
        ).all()
    )
    first_of_day = session.execute(
        select(Attempt.student_id, func.min(Attempt.timestamp))
        .where(Attempt.timestamp >= since)
        .group_by(Attempt.student_id, func.date(Attempt.timestamp))
    ).all()
    session.add_all(
        ExperimentExposure(
            experiment_id=running.id,
            student_id=sid,
            condition=condition[sid],
            context="practice",
            at=at,
        )
        for sid, at in first_of_day
        if sid in condition
    )


def _unique_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    pairs = [(g, f) for g in FIRST_NAMES for f in LAST_NAMES]
    chosen = rng.choice(len(pairs), size=n, replace=False)
    return [pairs[i] for i in chosen]


def _demographics(rng: np.random.Generator, student_id: int) -> dict[str, object]:
    """Self-reported race and ethnicity in the OneRoster fields, in plausible proportions."""
    races = (
        "white",
        "black_or_african_american",
        "asian",
        "american_indian_or_alaska_native",
        "native_hawaiian_or_other_pacific_islander",
    )
    race = races[rng.choice(len(races), p=[0.5, 0.2, 0.2, 0.06, 0.04])]
    two_or_more = bool(rng.random() < 0.08)
    row: dict[str, object] = {name: (name == race) for name in races}
    row.update(
        user_id=student_id,
        sex=str(rng.choice(["female", "male"])),
        birth_date=dt.date(2012, 9, 1) + dt.timedelta(days=int(rng.integers(0, 365))),
        demographic_race_two_or_more_races=two_or_more,
        hispanic_or_latino_ethnicity=bool(rng.random() < 0.3),
    )
    return row


def _summary(
    session: Session, created: bool, imports: list[tuple[str, ImportReport]]
) -> DemoSummary:
    roles = Counter(
        dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
    )
    return DemoSummary(
        created=created,
        users=dict(roles),
        sections=session.scalar(select(func.count()).select_from(Section)) or 0,
        competencies=session.scalar(select(func.count()).select_from(CompetencyRow)) or 0,
        items=session.scalar(select(func.count()).select_from(ItemRow)) or 0,
        attempts=session.scalar(select(func.count()).select_from(Attempt)) or 0,
        sign_in={"student": "student01", "teacher": "teacher", "leader": "principal"},
        imports=imports,
    )
