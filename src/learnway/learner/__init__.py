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
    read_attempts_csv,
    read_pybkt_csv,
    read_three_line,
)
from learnway.learner._datasets import (
    DATASETS,
    Split,
    load_split_files,
    load_splits,
    read_attempts_file,
    student_folds,
)
from learnway.learner._dkt import DKT
from learnway.learner._elo import EloKT
from learnway.learner._evaluate import MODELS, evaluate, fit_memory_mb, run_kt_benchmark
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import auc, calibration, log_loss, rmse
from learnway.learner._online import bkt_update
from learnway.learner._process import call_in_fresh_process, peak_memory_mb
from learnway.learner._pybkt import PEERS, PeerNotFound, find_pybkt, run_pybkt
from learnway.learner._selection import CV_CANDIDATES, ModelSelection, select_model

__all__ = [
    "BKT",
    "CV_CANDIDATES",
    "DATASETS",
    "DKT",
    "MODELS",
    "PEERS",
    "Attempt",
    "AttemptFormatError",
    "BoostedKT",
    "EloKT",
    "KTModel",
    "LogisticKT",
    "ModelSelection",
    "PeerNotFound",
    "Split",
    "attempts_from_frame",
    "auc",
    "bkt_update",
    "calibration",
    "call_in_fresh_process",
    "evaluate",
    "find_pybkt",
    "fit_memory_mb",
    "load_split_files",
    "load_splits",
    "log_loss",
    "peak_memory_mb",
    "read_attempts_csv",
    "read_attempts_file",
    "read_pybkt_csv",
    "read_three_line",
    "rmse",
    "run_kt_benchmark",
    "run_pybkt",
    "select_model",
    "student_folds",
]
