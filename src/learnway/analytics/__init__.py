"""Analytics: pure functions over arrays and mappings that turn stored evidence into the
figures leaders and researchers read. The store feeds them; the web and the CLI show them.

Leader reports: group figures with small-cell suppression. Evidence of what works
(docs/evidence.md): experiments (stable assignment, power, intention-to-treat effects,
attrition, subgroups, multiple comparisons), the efficacy of supports (difference in
differences against matched students) and of content (learning gain per item and hint from the
learner model), and the simulated schools that validate them. Nothing here reads the database.
"""

from learnway.analytics._assign import assign, assign_stratified, unit_draw
from learnway.analytics._benchmark import render_markdown, run_evidence_benchmark, write_results
from learnway.analytics._content import Efficacy, content_efficacy
from learnway.analytics._effects import (
    Attrition,
    Effect,
    SubgroupEffect,
    adjust_pvalues,
    attrition,
    describe,
    estimate_effects,
    subgroup_effects,
)
from learnway.analytics._power import Design, minimum_detectable_effect, power_of
from learnway.analytics._reports import (
    MIN_CELL,
    GroupFigure,
    group_figures,
    members,
    suppressed,
)
from learnway.analytics._simulate import (
    School,
    simulate_experiment,
    simulate_practice,
    simulate_supports,
)
from learnway.analytics._supports import CAVEAT, SupportEffect, support_effect

__all__ = [
    "CAVEAT",
    "MIN_CELL",
    "Attrition",
    "Design",
    "Effect",
    "Efficacy",
    "GroupFigure",
    "School",
    "SubgroupEffect",
    "SupportEffect",
    "adjust_pvalues",
    "assign",
    "assign_stratified",
    "attrition",
    "content_efficacy",
    "describe",
    "estimate_effects",
    "group_figures",
    "members",
    "minimum_detectable_effect",
    "power_of",
    "render_markdown",
    "run_evidence_benchmark",
    "simulate_experiment",
    "simulate_practice",
    "simulate_supports",
    "subgroup_effects",
    "support_effect",
    "suppressed",
    "unit_draw",
    "write_results",
]
