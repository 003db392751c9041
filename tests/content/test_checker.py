"""Bounded answer checking: size limits before any evaluation, and workers with time and memory
limits that are killed and replaced when exceeded."""

from __future__ import annotations

import threading
import time

import pytest
import sympy

from content.bounded_support import hoard, nap, refuse, spin
from learnway.content import (
    AnswerChecker,
    AnswerTooLarge,
    CheckerBusy,
    NeedsWorker,
    check_answer,
    parse_answer,
)
from learnway.content._checker import LimitExceeded, WorkerPool

# Each of these kept a server thread computing for minutes (or ran past 20 s in the checker).
BOMBS = [
    "9^99999999",
    "9^9^9^9",
    "10^10^10",
    "10^-999999999",
    "(x+1)^5000*(x-1)^5000",
    "2^2^2^2^2^2",
    "x^(10^9)",
    "(x^30)^30",
    "\\frac{1}{7^{100000}}",
    "\\sqrt[0.000001]{3}",
    "\\sqrt{9^{9^{9}}}",
    "(9^300)^2",
    "99999^99999",
    "1.0000001^1000000000",
    "\\pi^{10^{8}}",
    "2^{x^{x^{x}}}",
    "x^{9^9}-y = 0",
    "(a+b)^99 (a-b)^99",
    "y = (x+1)^{70}",
    "-9^{99999999}, 3",
    "(a+b+c+d+1)^{14} = y(a+b+c+d)^{14}",
    "\\sqrt{-x^2-1}(x^3+y^3+z^3+w^3)^{5}(a+b+c)^{6}",
    "(x+1)(x+2)(x+3)(x+4)(x+5)(x+6)(x+7)(x+8)(x+9)(x+10)(x+11)",
]


@pytest.mark.parametrize("response", BOMBS)
def test_a_huge_answer_is_refused_before_it_is_worked_out(response: str) -> None:
    started = time.perf_counter()
    with pytest.raises(AnswerTooLarge, match="too large to check"):
        check_answer(
            answer_type="arithmetic", problem_type="TextBox", expected=["y = x + 1"],
            response=response,
        )  # fmt: skip
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("response", "value"),
    [
        ("2^{10}", sympy.Integer(1024)),
        ("2^-100", sympy.Rational(1, 2**100)),
        ("10^{-9}", sympy.Rational(1, 10**9)),
        ("(-1)^{99999999}", sympy.Integer(-1)),
        ("1^{10^{10}}", sympy.Integer(1)),
        ("0^{999999}", sympy.Integer(0)),
        ("9^{300}", sympy.Integer(9) ** 300),
    ],
)
def test_numbers_within_the_limits_are_read(response: str, value: sympy.Expr) -> None:
    assert parse_answer(response) == value


def test_polynomials_within_the_limits_are_checked() -> None:
    verdict = check_answer(
        answer_type="arithmetic", problem_type="TextBox", expected=["(x+1)^{19}(x-1)^{19}"],
        response="(x^2-1)^{19}",
    )  # fmt: skip
    assert verdict.correct


def test_a_stored_answer_beyond_the_limits_is_compared_as_text() -> None:
    verdict = check_answer(
        answer_type="arithmetic", problem_type="TextBox", expected=["2^{100000}", "4"],
        response="4",
    )  # fmt: skip
    assert verdict.correct


# -- the worker pool ----------------------------------------------------------------------------


def test_a_call_past_the_time_limit_is_killed_and_its_worker_replaced() -> None:
    pool = WorkerPool(nap, workers=1, time_limit_s=0.5)
    try:
        assert pool.call(seconds=0.0) == 0.0
        started = time.perf_counter()
        with pytest.raises(LimitExceeded, match=r"within 0\.5 s of CPU time"):
            pool.call(seconds=30.0)
        assert time.perf_counter() - started < 2.5
        assert pool.killed == 1
        assert pool.call(seconds=0.01) == 0.01  # the replacement answers
    finally:
        pool.close()


def test_a_call_past_the_memory_limit_is_refused_and_its_worker_replaced() -> None:
    pool = WorkerPool(hoard, workers=1, time_limit_s=20.0, memory_limit_mb=64)
    try:
        assert pool.call(megabytes=8) == 8 * 1024 * 1024
        with pytest.raises(LimitExceeded, match="MiB"):
            pool.call(megabytes=1024)
        assert pool.killed == 1
        assert pool.call(megabytes=8) == 8 * 1024 * 1024
    finally:
        pool.close()


def test_an_error_of_the_function_reaches_the_caller_and_keeps_the_worker() -> None:
    pool = WorkerPool(refuse, workers=1)
    try:
        with pytest.raises(ValueError, match="no such step"):
            pool.call(message="no such step")
        assert pool.killed == 0
    finally:
        pool.close()


def test_a_call_that_finds_no_free_worker_in_time_is_refused() -> None:
    pool = WorkerPool(nap, workers=1, time_limit_s=5.0, wait_s=0.2, slow_after_s=5.0)
    try:
        pool.call(seconds=0.0)
        busy = threading.Thread(target=pool.call, kwargs={"seconds": 1.5})
        busy.start()
        time.sleep(0.3)
        with pytest.raises(CheckerBusy):
            pool.call(seconds=0.0)
        busy.join()
        assert pool.call(seconds=0.0) == 0.0
    finally:
        pool.close()


def test_a_call_past_its_cpu_time_is_stopped() -> None:
    pool = WorkerPool(spin, workers=1, time_limit_s=0.5, wall_limit_s=60.0)
    try:
        assert pool.call(seconds=0.1) == 0.1
        with pytest.raises(LimitExceeded, match="CPU time"):
            pool.call(seconds=30.0)
        assert pool.killed == 1
    finally:
        pool.close()


def test_a_slow_call_is_demoted_so_quick_calls_go_on() -> None:
    pool = WorkerPool(spin, workers=1, time_limit_s=20.0, slow_after_s=0.2, wall_limit_s=60.0)
    try:
        assert pool.call(seconds=0.0) == 0.0
        results: list[float] = []
        slow = threading.Thread(target=lambda: results.append(pool.call(seconds=1.5)))
        slow.start()
        while not pool._slow:  # the slow call has used its 0.2 s and was demoted
            time.sleep(0.05)
        assert pool.call(seconds=0.01) == 0.01  # a fresh worker took the slow one's place
        assert slow.is_alive(), "the quick call did not wait for the slow one"
        slow.join()
        assert results == [1.5] and pool.killed == 0
    finally:
        pool.close()


def test_a_call_that_waits_past_the_slow_mark_is_demoted_too() -> None:
    pool = WorkerPool(nap, workers=1, time_limit_s=20.0, slow_after_s=0.2, wall_limit_s=60.0)
    try:
        assert pool.call(seconds=0.0) == 0.0
        results: list[float] = []
        waiting = threading.Thread(target=lambda: results.append(pool.call(seconds=1.5)))
        waiting.start()
        deadline = time.monotonic() + 1.2
        while not pool._slow:  # 0.2 s by the clock, hardly any CPU time: demoted all the same
            assert time.monotonic() < deadline, "a call waiting for 1.2 s was not demoted"
            time.sleep(0.05)
        assert pool.call(seconds=0.01) == 0.01  # a fresh worker took the waiting one's place
        assert waiting.is_alive(), "the quick call did not wait for the slow one"
        waiting.join()
        assert results == [1.5] and pool.killed == 0
    finally:
        pool.close()


def test_past_the_demotion_cap_a_slow_call_is_stopped_early() -> None:
    pool = WorkerPool(
        spin, workers=1, time_limit_s=20.0, slow_after_s=0.2, max_slow=1, wall_limit_s=60.0
    )
    try:
        pool.call(seconds=0.0)
        first = threading.Thread(target=pool.call, kwargs={"seconds": 3.0})
        first.start()
        while not pool._slow:
            time.sleep(0.05)
        with pytest.raises(LimitExceeded, match="too many slow calls"):
            pool.call(seconds=10.0)
        first.join()
    finally:
        pool.close()


def test_the_answer_checker_refuses_huge_answers_and_keeps_checking() -> None:
    checker = AnswerChecker(workers=2, time_limit_s=5.0)
    try:
        for bomb in BOMBS[:5]:
            with pytest.raises(AnswerTooLarge):
                checker.check(
                    answer_type="arithmetic", problem_type="TextBox", expected=["x"],
                    response=bomb,
                )  # fmt: skip
        verdict = checker.check(
            answer_type="arithmetic", problem_type="TextBox", expected=[r"$$\frac{1}{2}$$"],
            response="0.5",
        )  # fmt: skip
        assert verdict.correct
        with pytest.raises(ValueError, match="unknown problem_type"):
            checker.check(
                answer_type="arithmetic", problem_type="Essay", expected=["1"], response="1"
            )
    finally:
        checker.close()


def test_the_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="workers"):
        WorkerPool(nap, workers=0)
    with pytest.raises(ValueError, match="time_limit_s"):
        WorkerPool(nap, time_limit_s=0)


def test_a_call_on_an_event_loop_keeps_the_loop_serving_and_keeps_the_limits() -> None:
    import asyncio

    pool = WorkerPool(nap, workers=1, time_limit_s=0.5)

    async def main() -> tuple[float, int, float]:
        ticks = 0

        async def ticking() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(ticking())
        napped = await pool.call_async(seconds=0.3)
        ticker.cancel()
        started = time.perf_counter()
        with pytest.raises(LimitExceeded, match=r"within 0\.5 s of CPU time"):
            await pool.call_async(seconds=30.0)
        return napped, ticks, time.perf_counter() - started

    try:
        napped, ticks, stopped_after = asyncio.run(main())
        assert napped == 0.3
        assert ticks >= 10, "the loop stood still while the worker computed"
        assert stopped_after < 2.5
        assert pool.killed == 1
        assert pool.call(seconds=0.01) == 0.01  # the replacement answers
    finally:
        pool.close()


def test_the_answer_checker_gives_the_same_verdicts_on_an_event_loop() -> None:
    import asyncio

    checker = AnswerChecker(workers=1, time_limit_s=5.0)
    cases = [("x+1", "1+x"), ("x+1", "x+2"), (r"$$\frac{1}{2}$$", "0.5"), ("2x", "x*2")]
    try:
        for expected, response in cases:
            given = {"answer_type": "arithmetic", "problem_type": "TextBox",
                     "expected": [expected], "response": response}  # fmt: skip
            assert asyncio.run(checker.check_async(key=1, **given)) == checker.check(**given)
        quick = {"answer_type": "arithmetic", "problem_type": "TextBox",
                 "expected": [r"$$\frac{1}{2}$$"], "response": "0.5"}  # fmt: skip
        assert checker.check(wait=False, **quick).correct  # decided without a worker
        with pytest.raises(NeedsWorker):
            checker.check(wait=False, answer_type="arithmetic", problem_type="TextBox",
                          expected=["x+1"], response="1+x")  # fmt: skip
        with pytest.raises(AnswerTooLarge):
            asyncio.run(checker.check_async(
                answer_type="arithmetic", problem_type="TextBox", expected=["x"],
                response=BOMBS[0],
            ))  # fmt: skip
    finally:
        checker.close()
