"""Synthetic learners and classrooms, and the evaluation of teaching policies on them.

The simulated students learn on a logistic curve and forget on a forgetting curve (not the
knowledge-tracing model the planner assumes); see :mod:`learnway.sim._world`.
"""

from learnway.sim._benchmark import (
    placement_study,
    render_markdown,
    render_summary,
    run_policy_benchmark,
    write_results,
)
from learnway.sim._classroom import RunResult, Term, run_term
from learnway.sim._history import simulate_history
from learnway.sim._policies import FixedSequence, Oracle, PlannerPolicy, Policy
from learnway.sim._world import KNOWN, Population, Students, practise, retrieval, sample_students

__all__ = [
    "KNOWN",
    "FixedSequence",
    "Oracle",
    "PlannerPolicy",
    "Policy",
    "Population",
    "RunResult",
    "Students",
    "Term",
    "placement_study",
    "practise",
    "render_markdown",
    "render_summary",
    "retrieval",
    "run_policy_benchmark",
    "run_term",
    "sample_students",
    "simulate_history",
    "write_results",
]
