"""Learner models: knowledge tracing that turns attempts into mastery.

Every model is a scikit-learn estimator over a table of attempts (``student_id``,
``competency_id``, ``correct``, optionally ``item_id``; rows in time order per student):
``fit``, sequential ``predict_proba``, and ``init_state`` / ``update`` / ``mastery`` for one
attempt at a time in the live application.
"""

from learnway.learner._base import Attempt, KTModel
from learnway.learner._bkt import BKT
from learnway.learner._boosted import BoostedKT
from learnway.learner._data import (
    AttemptFormatError,
    attempts_from_frame,
    read_pybkt_csv,
    read_three_line,
)
from learnway.learner._datasets import DATASETS, load_splits, student_folds
from learnway.learner._dkt import DKT
from learnway.learner._elo import EloKT
from learnway.learner._evaluate import MODELS, evaluate, run_kt_benchmark
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import auc, calibration, log_loss, rmse
from learnway.learner._online import bkt_update

__all__ = [
    "BKT",
    "DATASETS",
    "DKT",
    "MODELS",
    "Attempt",
    "AttemptFormatError",
    "BoostedKT",
    "EloKT",
    "KTModel",
    "LogisticKT",
    "attempts_from_frame",
    "auc",
    "bkt_update",
    "calibration",
    "evaluate",
    "load_splits",
    "log_loss",
    "read_pybkt_csv",
    "read_three_line",
    "rmse",
    "run_kt_benchmark",
    "student_folds",
]
