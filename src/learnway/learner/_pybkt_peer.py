"""Fit and predict with pyBKT, as the peer of ``learnway bench kt``.

Runs inside pyBKT's own virtual environment (``benchmarks/kt/setup_pybkt.sh``), so it imports
nothing from Learnway: the harness calls it by file path as a subprocess with a train and a test
CSV in pyBKT's format and reads back a JSON file holding the fit and predict times, the process's
own peak resident memory (``VmHWM``), and the predicted probability of every test row (in the
test file's row order; null for a skill pyBKT never saw in training).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``; NaN where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--test", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--forgets", action="store_true")
    parser.add_argument("--num-fits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="fits timed; the last one predicts")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import pyBKT
    from pyBKT.fit import E_step
    from pyBKT.models import Model

    if not str(E_step.__file__).endswith(".so"):
        sys.exit("pyBKT runs without its compiled E-step: rebuild it with setup_pybkt.sh")
    train = pd.read_csv(args.train, dtype={"skill_name": str})
    test = pd.read_csv(args.test, dtype={"skill_name": str})
    known = test["skill_name"].isin(set(train["skill_name"]))

    fit_times = []
    for _ in range(args.repeats):
        model = Model(seed=args.seed, num_fits=args.num_fits, parallel=True)
        start = time.perf_counter()
        model.fit(data=train, forgets=args.forgets)
        fit_times.append(time.perf_counter() - start)

    start = time.perf_counter()
    predicted = model.predict(data=test[known].copy())
    predict_s = time.perf_counter() - start
    by_order = predicted.set_index("order_id")["correct_predictions"]
    proba = np.full(len(test), np.nan)
    proba[known.to_numpy()] = by_order.loc[test.loc[known, "order_id"]].to_numpy()
    args.out.write_text(
        json.dumps(
            {
                "pybkt_version": getattr(pyBKT, "__version__", "1.4.3"),
                "compiled_e_step": True,
                "fit_seconds": min(fit_times),
                "fit_seconds_all": fit_times,
                "predict_seconds": predict_s,
                "peak_memory_mb": peak_memory_mb(),
                "proba": [None if np.isnan(p) else float(p) for p in proba],
            }
        )
    )


if __name__ == "__main__":
    main()
