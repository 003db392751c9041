"""Learner models: knowledge tracing that turns attempts into mastery."""

from learnway.learner._base import Attempt, KTModel
from learnway.learner._bkt import BKT
from learnway.learner._data import (
    AttemptFormatError,
    attempts_from_frame,
    read_pybkt_csv,
    read_three_line,
)
from learnway.learner._online import bkt_update

__all__ = [
    "BKT",
    "Attempt",
    "AttemptFormatError",
    "KTModel",
    "attempts_from_frame",
    "bkt_update",
    "read_pybkt_csv",
    "read_three_line",
]
