"""Personal learning paths: mastery rules, the next-activity planner, placement, pacing, groups.

Pure functions and small classes over arrays: a competency graph, a step bank, knowledge-tracing
parameters and the learner state in; statuses, scores and recommendations with reasons out.
"""

from learnway.paths._alignment import (
    AlignedEdges,
    AlignedSkill,
    aligned_prerequisites,
    check_alignment,
    read_alignment,
    shipped_alignment,
)
from learnway.paths._calendar import SchoolCalendar, breaks_between_sessions
from learnway.paths._configure import Configuration, select_configuration, stored_policy
from learnway.paths._course import CourseGraph
from learnway.paths._graph import CompetencyGraph, StepBank
from learnway.paths._groups import Group, suggest_groups
from learnway.paths._mastery import (
    EVIDENCE_KINDS,
    P_MAX,
    P_MIN,
    BKTParams,
    LearnerState,
    MasteryPolicy,
    Status,
    apply_attempts,
    is_durable,
    is_mastered,
    mastery_status,
    predicted_recall,
    replay_attempts,
)
from learnway.paths._memory import MemoryModel, review_evidence, review_target
from learnway.paths._pacing import forecast_pacing, section_pacing
from learnway.paths._placement import Placement
from learnway.paths._planner import Planner, PlannerConfig, Scores, goal_mask
from learnway.paths._reasons import REASON_TEMPLATES, Activity, Reason, Recommendation

__all__ = [
    "EVIDENCE_KINDS",
    "P_MAX",
    "P_MIN",
    "REASON_TEMPLATES",
    "Activity",
    "AlignedEdges",
    "AlignedSkill",
    "BKTParams",
    "CompetencyGraph",
    "Configuration",
    "CourseGraph",
    "Group",
    "LearnerState",
    "MasteryPolicy",
    "MemoryModel",
    "Placement",
    "Planner",
    "PlannerConfig",
    "Reason",
    "Recommendation",
    "SchoolCalendar",
    "Scores",
    "Status",
    "StepBank",
    "aligned_prerequisites",
    "apply_attempts",
    "breaks_between_sessions",
    "check_alignment",
    "forecast_pacing",
    "goal_mask",
    "is_durable",
    "is_mastered",
    "mastery_status",
    "predicted_recall",
    "read_alignment",
    "replay_attempts",
    "review_evidence",
    "review_target",
    "section_pacing",
    "select_configuration",
    "shipped_alignment",
    "stored_policy",
    "suggest_groups",
]
