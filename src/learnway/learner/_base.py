"""What every learner model shares: parameter rules, encoding of ids, the online state contract."""

from __future__ import annotations

import copy
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from learnway.learner._data import check_attempts


class Attempt(NamedTuple):
    """One observed attempt, as given to :meth:`KTModel.update`."""

    competency_id: Any
    correct: int
    item_id: Any = None


@dataclass(frozen=True)
class Interval:
    """A numeric parameter rule: ``low <= value <= high`` (open ends where asked)."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def check(self, name: str, value: Any) -> None:
        kinds: tuple[type, ...] = (int, np.integer) if self.kind is int else (int, float, np.number)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(f"{name} must be a {self.kind.__name__}, got {value!r}")
        number = float(value)  # type: ignore[arg-type]
        low_bad = self.low is not None and (
            number < self.low or (self.low_open and number == self.low)
        )
        high_bad = self.high is not None and (
            number > self.high or (self.high_open and number == self.high)
        )
        if low_bad or high_bad:
            lo = "(" if self.low_open else "["
            hi = ")" if self.high_open else "]"
            raise ValueError(
                f"{name} must be in {lo}{self.low if self.low is not None else '-inf'}, "
                f"{self.high if self.high is not None else 'inf'}{hi}, got {value!r}"
            )


@dataclass(frozen=True)
class OneOf:
    """A parameter rule: the value is one of a few allowed values."""

    options: tuple[Any, ...]

    def check(self, name: str, value: Any) -> None:
        if value not in self.options:
            raise ValueError(f"{name} must be one of {list(self.options)}, got {value!r}")


class Seed:
    """A parameter rule for ``random_state``: None or a non-negative integer."""

    def check(self, name: str, value: Any) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0
        ):
            raise ValueError(f"{name} must be None or a non-negative integer, got {value!r}")


@dataclass(frozen=True)
class AutoOr:
    """A parameter rule: the string ``"auto"`` or a value that satisfies ``rule``."""

    rule: Interval

    def check(self, name: str, value: Any) -> None:
        if value == "auto":
            return
        try:
            self.rule.check(name, value)
        except ValueError as err:
            raise ValueError(f"{err} (or 'auto')") from None


@dataclass(frozen=True)
class NoneOr:
    """A parameter rule: None or a value that satisfies ``rule``."""

    rule: Interval

    def check(self, name: str, value: Any) -> None:
        if value is not None:
            self.rule.check(name, value)


Rule = Interval | OneOf | Seed | AutoOr | NoneOr


def encode(values: NDArray[Any] | pd.Series, vocabulary: pd.Index) -> NDArray[np.int64]:
    """Codes of ``values`` in ``vocabulary``; -1 where a value is not in it."""
    return np.asarray(vocabulary.get_indexer(pd.Index(np.asarray(values))), dtype=np.int64)


def student_codes(X: pd.DataFrame) -> NDArray[np.int64]:
    codes, _ = pd.factorize(X["student_id"].to_numpy())
    return np.asarray(codes, dtype=np.int64)


class KTModel(BaseEstimator):
    """Base of the learner models: a scikit-learn estimator over tables of attempts.

    ``fit(X)`` learns from a table of attempts (see :mod:`learnway.learner._data`) and returns
    the model. ``predict_proba(X)`` gives, for each row, the probability that the attempt is
    correct given only the earlier rows of the same student (never later ones). ``init_state()``,
    ``update(state, attempt)`` and ``mastery(state)`` do the same one attempt at a time, for
    the live application; replaying a student's history through ``update`` gives exactly the
    batch predictions.
    """

    _param_rules: ClassVar[dict[str, Rule]] = {}

    def bounded_state(self) -> bool:
        """Whether the online state stays the same size however long the history grows (it
        then depends on the number of competencies only): such a model can serve the live
        learner state, one answer at a time at constant cost."""
        return False

    def _check_params(self) -> None:
        for name, rule in self._param_rules.items():
            rule.check(name, getattr(self, name))

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_attempts_fit_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(attempts) first"
            )

    def fit(self, X: pd.DataFrame, y: None = None) -> KTModel:
        """Learn the model's parameters from a table of attempts; returns ``self``."""
        self._check_params()
        X = check_attempts(X)
        self._fit(X)
        self.n_attempts_fit_ = len(X)
        return self

    def predict_proba(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Probability that each attempt is correct, from the same student's earlier rows only."""
        self._check_fitted()
        X = check_attempts(X)
        if len(X) == 0:
            return np.empty(0, dtype=np.float64)
        return self._predict(X)

    def init_state(self) -> dict[str, Any]:
        """A new student's state for :meth:`update` (a plain, picklable dict)."""
        self._check_fitted()
        return {}

    def update(self, state: dict[str, Any], attempt: Attempt | tuple[Any, ...]) -> float:
        """Predict one attempt from ``state``, then fold its outcome into ``state`` (in place).

        Returns the probability that the attempt is correct, computed before its outcome was
        seen; it equals the batch :meth:`predict_proba` for the same history.
        """
        self._check_fitted()
        att = attempt if isinstance(attempt, Attempt) else Attempt(*attempt)
        return self._update(state, att)

    def predict_next(self, state: dict[str, Any], competency_id: Any, item_id: Any = None) -> float:
        """Probability that a next attempt on ``competency_id`` is correct, from ``state``,
        which is left unchanged."""
        self._check_fitted()
        return self._update(copy.deepcopy(state), Attempt(competency_id, 0, item_id))

    def mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        """Probability of mastery (or of a correct next answer) per competency seen in ``state``."""
        self._check_fitted()
        return self._mastery(state)

    @abstractmethod
    def _fit(self, X: pd.DataFrame) -> None: ...

    @abstractmethod
    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]: ...

    @abstractmethod
    def _update(self, state: dict[str, Any], attempt: Attempt) -> float: ...

    @abstractmethod
    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]: ...


def encode_state(state: Any) -> Any:
    """An online state as JSON-ready values (arrays tagged with their dtype), for storage."""
    if isinstance(state, np.ndarray):
        return {"__array__": state.tolist(), "dtype": str(state.dtype)}
    if isinstance(state, dict):
        return {str(k): encode_state(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return [encode_state(v) for v in state]
    if isinstance(state, np.generic):
        return state.item()
    return state


def decode_state(value: Any) -> Any:
    """The online state that :func:`encode_state` wrote (tuples come back as lists)."""
    if isinstance(value, dict):
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        return {k: decode_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_state(v) for v in value]
    return value
