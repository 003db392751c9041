"""Calibration on a Ray cluster (``learnway calibrate --engine ray``): BKT with forgetting.

BKT's parameters are per competency and its EM over one competency needs only that
competency's attempts, so the fit decomposes by competency without approximation. The driver
asks the database for each competency's size (one aggregate query), packs the competencies that
have enough evidence into shards of about ``shard_attempts`` attempts, and sends one task per
shard. Each task reads its shard's attempts from PostgreSQL itself (on a large log a scan of
every month's partition, a competency's attempts lying on nearly every page: each task reads
the whole log once, so fewer, larger shards read less) as compact arrays (7 bytes an attempt, with
``COPY ... TO STDOUT``), fits :class:`learnway.learner.BKT` on them with one thread, and
returns the parameters only. No process holds the whole log: a worker's memory is
bounded by the shard size, whatever the total. The result is written as a new model version of
family ``bkt-forgetting``, queued to be built, exactly as :func:`learnway.store.calibrate_course`
writes one.

Ray is an optional extra (``pip install 'learnway[ray]'``). Without an address a local cluster
is started on this machine with ``workers`` CPUs; with one (``ray://head:10001`` or ``auto``
for a cluster started by ``ray start``) the tasks run there, and each task connects to the
database URL it is given, so the cluster's machines must reach the database.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from learnway.store._attempt_arrays import attempt_arrays, bkt_values, fit_bkt
from learnway.store._calibrate import BUILD_JOB, CalibrationReport
from learnway.store._engine import make_engine, transaction
from learnway.store._jobs import enqueue
from learnway.store._schema import (
    KT_PARAMETERS,
    Attempt,
    CompetencyRow,
    FrameworkRow,
    LearnerModelRow,
    StepAlignment,
)

FAMILY = "bkt-forgetting"
SHARD_ATTEMPTS = 2_000_000
"""Attempts a task fits at most (unless one competency alone has more)."""
HELD_OUT_EVERY = 5
"""With ``held_out``, students whose id is a multiple of this are kept out of the fit."""


def need_ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError:
        raise RuntimeError(
            "calibrate --engine ray needs Ray: pip install 'learnway[ray]'"
        ) from None
    return ray


@dataclass
class ShardResult:
    params: dict[str, list[float]]
    """Per competency code, in the order of :data:`KT_PARAMETERS`."""
    attempts: int
    students: set[int] = field(default_factory=set)
    y: NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    """With ``held_out``: whether each held-out attempt was right without a hint."""
    p: NDArray[np.float64] = field(default_factory=lambda: np.empty(0, float))
    """With ``held_out``: the probability the fit gave each held-out attempt (arrays, not
    lists, so that a large shard's predictions travel back compactly)."""
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    read_seconds: float = 0.0
    """Of ``seconds``, the time to read the shard's attempts from the database."""


def fit_shard(
    url: str,
    framework_id: int,
    codes: Sequence[str],
    *,
    n_restarts: int,
    random_state: int,
    held_out: bool = False,
    all_codes: Sequence[str] = (),
) -> ShardResult:
    """One task: read the shard's attempts as compact arrays, fit BKT with forgetting, return
    the parameters (and, with ``held_out``, the predictions on the held-out students'
    attempts). ``all_codes``: every competency of the whole fit, so that each competency gets
    the parameters of one fit over them all (:func:`learnway.store._attempt_arrays.fit_bkt`)."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            table, found = attempt_arrays(session, framework_id, codes)
    finally:
        engine.dispose()
    read = time.perf_counter() - started
    everything = sorted(set(all_codes) | set(found))
    at = {code: k for k, code in enumerate(everything)}
    moved = np.asarray([at[code] for code in found], dtype=np.int16)
    if len(moved):
        table["competency_id"] = moved[table["competency_id"].to_numpy()]
    students = table["student_id"].to_numpy()
    test = (students % HELD_OUT_EVERY == 0) if held_out else np.zeros(len(table), bool)
    train = table[~test] if held_out else table
    model = fit_bkt(train, moved.tolist(), len(everything), n_restarts=n_restarts,
                    random_state=random_state)  # fmt: skip
    values = bkt_values(model)
    result = ShardResult(
        params={
            code: values[model.competency_index_[at[code]]].tolist()
            for code in found
            if at[code] in model.competency_index_
        },
        attempts=len(train),
        students=set(np.unique(train["student_id"].to_numpy()).tolist()),
    )
    if held_out and test.any():
        rows = table[test]
        result.y = rows["correct"].to_numpy(bool)
        result.p = np.asarray(model.predict_proba(rows), dtype=float)
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.seconds = time.perf_counter() - started
    result.read_seconds = read
    return result


def competency_sizes(session: Session, framework_id: int) -> pd.DataFrame:
    """Attempts and students per competency of the course, counted by the database."""
    rows = session.execute(
        select(
            CompetencyRow.code,
            func.count(),
            func.count(func.distinct(Attempt.student_id)),
        )
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(CompetencyRow.framework_id == framework_id, Attempt.kind != "worked_example")
        .group_by(CompetencyRow.code)
    ).all()
    return pd.DataFrame(rows, columns=["code", "attempts", "students"]).set_index("code")


def shards(sizes: pd.Series, *, shard_attempts: int) -> list[list[str]]:
    """Competencies packed into shards of about ``shard_attempts`` attempts, largest first."""
    packed: list[list[str]] = []
    load: list[int] = []
    for code, n in sizes.sort_values(ascending=False).items():
        for k in range(len(packed)):
            if load[k] + n <= shard_attempts:
                packed[k].append(str(code))
                load[k] += int(n)
                break
        else:
            packed.append([str(code)])
            load.append(int(n))
    return packed


@dataclass(frozen=True)
class DistributedFit:
    params: dict[str, list[float]]
    shards: list[ShardResult]
    seconds: float
    workers: int

    @property
    def held_out(self) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        y = np.concatenate([s.y for s in self.shards])
        p = np.concatenate([s.p for s in self.shards])
        return y, p


def fit_distributed(
    engine: Engine,
    framework_id: int,
    codes: Sequence[str],
    sizes: pd.Series,
    *,
    workers: int | None = None,
    address: str | None = None,
    n_restarts: int = 5,
    random_state: int = 0,
    shard_attempts: int = SHARD_ATTEMPTS,
    held_out: bool = False,
) -> DistributedFit:
    """Fit BKT with forgetting on ``codes`` of the course, one Ray task per shard."""
    ray = need_ray()
    started = time.perf_counter()
    url = engine.url.render_as_string(hide_password=False)
    own = not ray.is_initialized()
    if own:
        ray.init(
            address=address, num_cpus=None if address else workers, include_dashboard=False,
            log_to_driver=False, configure_logging=False,
        )  # fmt: skip
    try:
        task = ray.remote(num_cpus=1, max_retries=2)(fit_shard)
        groups = shards(sizes.loc[list(codes)], shard_attempts=shard_attempts)
        futures = [
            task.remote(url, framework_id, group, n_restarts=n_restarts,
                        random_state=random_state, held_out=held_out, all_codes=list(codes))
            for group in groups
        ]  # fmt: skip
        results: list[ShardResult] = ray.get(futures)
        cpus = int(ray.cluster_resources().get("CPU", 0))
    finally:
        if own:
            ray.shutdown()
    params: dict[str, list[float]] = {}
    for result in results:
        params.update(result.params)
    return DistributedFit(params, results, time.perf_counter() - started, cpus)


def calibrate_course_ray(
    session: Session,
    framework_id: int,
    *,
    min_attempts: int = 100,
    min_students: int = 10,
    n_restarts: int = 5,
    random_state: int = 0,
    workers: int | None = None,
    address: str | None = None,
    shard_attempts: int = SHARD_ATTEMPTS,
) -> CalibrationReport:
    """Fit BKT with forgetting on every competency of the course with at least
    ``min_attempts`` attempts by ``min_students`` students, on a Ray cluster, and record it as
    a new model version queued to be built (as :func:`learnway.store.calibrate_course` does)."""
    header = session.get(FrameworkRow, framework_id)
    if header is None:
        raise LookupError(f"no framework with id {framework_id}")
    sizes = competency_sizes(session, framework_id)
    enough = (sizes["attempts"] >= min_attempts) & (sizes["students"] >= min_students)
    fitted = sorted(sizes.index[enough].tolist())
    kept = sorted(sizes.index[~enough].tolist())
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    students = int(
        session.scalar(
            select(func.count(func.distinct(Attempt.student_id)))
            .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
            .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
            .where(CompetencyRow.framework_id == framework_id)
        )
        or 0
    )
    version, seconds = None, 0.0
    if fitted:
        fit = fit_distributed(
            engine, framework_id, fitted, sizes["attempts"], workers=workers, address=address,
            n_restarts=n_restarts, random_state=random_state, shard_attempts=shard_attempts,
        )  # fmt: skip
        seconds = fit.seconds
        params = {
            code: {
                **dict(zip(KT_PARAMETERS, fit.params[code], strict=True)),
                "attempts": int(sizes["attempts"][code]),
                "students": int(sizes["students"][code]),
            }
            for code in fitted
            if code in fit.params
        }
        row = LearnerModelRow(
            framework_id=framework_id, family=FAMILY, status="building", params=params,
            figures={"attempts": int(sizes["attempts"].sum()), "students": students,
                     "fit_seconds": seconds, "engine": "ray", "workers": fit.workers,
                     "shards": len(fit.shards),
                     "peak_rss_mb_per_task": max(s.peak_rss_mb for s in fit.shards)},
        )  # fmt: skip
        session.add(row)
        session.flush()
        version = row.id
        enqueue(session, BUILD_JOB, key=f"{BUILD_JOB}:{version}", payload={"version": version})
    return CalibrationReport(
        framework=header.key, attempts=int(sizes["attempts"].sum()), students=students,
        fitted=tuple(fitted), kept=tuple(kept), fit_seconds=seconds, version=version,
        family=FAMILY if version is not None else None,
    )  # fmt: skip
