"""pyBKT as the benchmark's peer: found, run in its own environment, scored on the same split."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from learnway.learner._datasets import PROJECT_ROOT, Split

PEERS = {"pybkt": False, "pybkt-forget": True}  # name -> pyBKT's forgets flag
# pyBKT needs scikit-learn < 1.6, so it lives in a virtual environment of its own, which
# benchmarks/kt/setup_pybkt.sh builds here (any other place is given explicitly).
DEFAULT_PYBKT_PYTHON = PROJECT_ROOT / "benchmarks" / ".pybkt-venv" / "bin" / "python"
PYBKT_RUNNER = Path(__file__).with_name("_pybkt_peer.py")


class PeerNotFound(RuntimeError):
    """pyBKT's interpreter is not where it was looked for; the message says how to build it."""


def find_pybkt(python: str | Path | None = None) -> Path:
    """The Python interpreter of pyBKT's environment: ``python`` when given, else the project's
    ``benchmarks/.pybkt-venv`` (found from the project root, whatever the current folder).
    Raises :class:`PeerNotFound` saying how to build it."""
    path = DEFAULT_PYBKT_PYTHON if python is None else Path(python)
    if not path.exists():
        raise PeerNotFound(
            f"pyBKT not found at {path}: run benchmarks/kt/setup_pybkt.sh to build it there, "
            "or give the Python of an environment where pyBKT is installed (--pybkt-python)"
        )
    return path


def pybkt_frame(attempts: pd.DataFrame) -> pd.DataFrame:
    """Attempts in pyBKT's input format, in row order (``order_id`` is the row number)."""
    return pd.DataFrame(
        {
            "order_id": np.arange(len(attempts)),
            "user_id": "s" + attempts["student_id"].astype(str),
            "skill_name": attempts["competency_id"].astype(str),
            "correct": attempts["correct"].astype(int),
        }
    )


def run_pybkt(
    split: Split,
    *,
    forgets: bool,
    python: str | Path | None = None,
    seed: int = 0,
    fit_repeats: int = 1,
) -> dict[str, Any]:
    """Fit and predict with pyBKT on the same split, in its own process and environment.

    Returns pyBKT's figures (``fit_seconds``, the fastest of ``fit_repeats`` timed fits, every
    fit in ``fit_seconds_all``, ``predict_seconds``, the process's own ``peak_memory_mb``) and
    ``proba``, the test rows' predictions; a competency pyBKT never saw in training gets the
    training success rate (counted in ``unseen_rows``)."""
    interpreter = find_pybkt(python)
    with tempfile.TemporaryDirectory(prefix="learnway-pybkt-") as tmp:
        train, test, out = Path(tmp, "train.csv"), Path(tmp, "test.csv"), Path(tmp, "out.json")
        pybkt_frame(split.train).to_csv(train, index=False)
        pybkt_frame(split.test).to_csv(test, index=False)
        cmd = [str(interpreter), str(PYBKT_RUNNER), "--train", str(train), "--test", str(test)]
        cmd += ["--out", str(out), "--seed", str(seed), "--repeats", str(fit_repeats)]
        cmd += ["--forgets"] if forgets else []
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pyBKT failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    proba = np.array([np.nan if v is None else v for v in result.pop("proba")], dtype=np.float64)
    unseen = np.isnan(proba)
    proba[unseen] = split.train["correct"].mean()
    result["proba"] = proba
    result["unseen_rows"] = int(unseen.sum())
    return result
