"""Synthetic learners and classrooms, and the evaluation of teaching policies on them.

Two worlds, neither the knowledge-tracing model the planner assumes: students who learn on a
logistic curve and forget on a power-law curve (:mod:`learnway.sim._world`), and students of a
knowledge space who learn all or nothing on its fringe and forget exponentially
(:mod:`learnway.sim._knowledge_space`).
"""

from learnway.sim._benchmark import (
    placement_study,
    render_markdown,
    render_summary,
    run_policy_benchmark,
    take_placement,
    write_results,
)
from learnway.sim._classroom import RunResult, Term, run_term
from learnway.sim._history import simulate_history
from learnway.sim._knowledge_space import SpacePopulation, SpaceStudents, sample_space_students
from learnway.sim._policies import CourseOrderBKT, FixedSequence, Oracle, PlannerPolicy, Policy
from learnway.sim._world import (
    KNOWN,
    Learners,
    Population,
    Students,
    practise,
    retrieval,
    sample_students,
)
from learnway.sim._worlds import (
    SCHOOL_TERM,
    WORLDS,
    render_worlds_summary,
    run_world,
    run_worlds_benchmark,
    write_worlds_results,
)

__all__ = [
    "KNOWN",
    "SCHOOL_TERM",
    "WORLDS",
    "CourseOrderBKT",
    "FixedSequence",
    "Learners",
    "Oracle",
    "PlannerPolicy",
    "Policy",
    "Population",
    "RunResult",
    "SpacePopulation",
    "SpaceStudents",
    "Students",
    "Term",
    "placement_study",
    "practise",
    "render_markdown",
    "render_summary",
    "render_worlds_summary",
    "retrieval",
    "run_policy_benchmark",
    "run_term",
    "run_world",
    "run_worlds_benchmark",
    "sample_space_students",
    "sample_students",
    "simulate_history",
    "take_placement",
    "write_results",
    "write_worlds_results",
]
