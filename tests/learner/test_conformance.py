"""The checks every learner model must pass (the library's own ``check_estimator``)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from learnway.learner import BKT, DKT, Attempt, BoostedKT, EloKT, KTModel, LogisticKT
from learnway.learner._base import decode_state, encode_state

from .conftest import synthetic_attempts

MODELS = [
    BKT(n_restarts=2, max_iter=30),
    BKT(forgetting=True, n_restarts=2, max_iter=30),
    BKT(forgetting=True, per_item=True, n_restarts=2, max_iter=30),
    LogisticKT(features="pfa"),
    LogisticKT(features="best-lr"),
    LogisticKT(features="best-lr+"),
    EloKT(),
    BoostedKT(max_iter=10, blend=0.5),
    DKT(hidden_size=8, epochs=2, batch_size=16, n_threads=1),
    DKT(hidden_size=8, epochs=2, batch_size=16, n_threads=1, features=True),
]
IDS = [
    *("bkt", "bkt-forget", "bkt-item", "pfa", "best-lr", "best-lr+", "elo", "boosted"),
    *("dkt", "dkt-features"),
]


@pytest.fixture(params=MODELS, ids=IDS)
def model(request: pytest.FixtureRequest) -> KTModel:
    return clone(request.param)


@pytest.fixture(scope="module")
def test_set() -> pd.DataFrame:
    return synthetic_attempts(n_students=8, seed=1)


def test_fit_returns_self_and_sets_learned_attributes(model: KTModel, attempts: pd.DataFrame):
    assert model.fit(attempts) is model
    assert model.n_attempts_fit_ == len(attempts)
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(clone(model)))


def test_predict_before_fit_is_refused(model: KTModel, test_set: pd.DataFrame):
    with pytest.raises(NotFittedError):
        model.predict_proba(test_set)


def test_probabilities_are_probabilities(model: KTModel, attempts, test_set):
    p = model.fit(attempts).predict_proba(test_set)
    assert p.shape == (len(test_set),)
    assert np.all((p > 0) & (p < 1))


def test_no_future_leakage(model: KTModel, attempts, test_set):
    """Changing a student's later outcomes never changes the earlier predictions."""
    model.fit(attempts)
    before = model.predict_proba(test_set)
    student = test_set["student_id"].iloc[0]
    rows = np.flatnonzero(test_set["student_id"].to_numpy() == student)
    cut = rows[len(rows) // 2]
    changed = test_set.copy()
    later = rows[rows >= cut]
    changed.loc[later, "correct"] = 1 - changed.loc[later, "correct"]
    after = model.predict_proba(changed)
    np.testing.assert_array_equal(before[: cut + 1], after[: cut + 1])
    others = test_set["student_id"].to_numpy() != student
    np.testing.assert_array_equal(before[others], after[others])
    assert not np.array_equal(before[later[1:]], after[later[1:]])  # the outcomes do matter


def test_deterministic(model: KTModel, attempts, test_set):
    a = clone(model).fit(attempts).predict_proba(test_set)
    b = clone(model).fit(attempts).predict_proba(test_set)
    np.testing.assert_array_equal(a, b)


def test_online_update_equals_batch(model: KTModel, attempts, test_set):
    model.fit(attempts)
    batch = model.predict_proba(test_set)
    states: dict[str, dict] = {}
    online = []
    for row in test_set.itertuples(index=False):
        state = states.setdefault(row.student_id, model.init_state())
        online.append(model.update(state, Attempt(row.competency_id, row.correct, row.item_id)))
    np.testing.assert_allclose(online, batch, rtol=0, atol=1e-12)
    mastery = model.mastery(states[test_set["student_id"].iloc[0]])
    tried = set(test_set.loc[test_set.student_id == test_set.student_id.iloc[0], "competency_id"])
    assert set(mastery) == tried
    assert all(0 < v < 1 for v in mastery.values())


def test_predict_next_is_the_next_update_and_changes_nothing(model: KTModel, attempts, test_set):
    """The live state asks for one competency's next-answer probability: it must equal what
    the next update returns, leave the state as it was, and survive storage as JSON."""
    model.fit(attempts)
    student = test_set[test_set.student_id == test_set.student_id.iloc[0]]
    state = model.init_state()
    for row in student.itertuples(index=False):
        state = decode_state(json.loads(json.dumps(encode_state(state))))
        expected = model.predict_next(state, row.competency_id, row.item_id)
        frozen = json.dumps(encode_state(state))
        assert json.dumps(encode_state(state)) == frozen
        assert model.update(state, Attempt(row.competency_id, row.correct, row.item_id)) == (
            pytest.approx(expected, abs=1e-12)
        )


def test_bounded_state_does_not_grow_with_history(model: KTModel, attempts, test_set):
    """A model that says its state is bounded holds as many numbers after a history ten times
    as long over the same competencies."""
    model.fit(attempts)
    rows = list(test_set[test_set.student_id == test_set.student_id.iloc[0]].itertuples())
    sizes = []
    for repeat in (1, 10):
        state = model.init_state()
        for row in rows * repeat:
            model.update(state, Attempt(row.competency_id, row.correct, row.item_id))
        sizes.append(_values(encode_state(state)))
    if model.bounded_state():
        assert sizes[1] == sizes[0]
    else:
        assert sizes[1] > sizes[0] * 2


def _values(encoded: object) -> int:
    """How many numbers an encoded state holds."""
    if isinstance(encoded, dict):
        return sum(_values(v) for v in encoded.values())
    if isinstance(encoded, list):
        return sum(_values(v) for v in encoded)
    return 1


def test_clone_and_pickle_round_trip(model: KTModel, attempts, test_set):
    params = model.get_params()
    assert clone(model).get_params() == params
    model.fit(attempts)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(test_set), model.predict_proba(test_set))


def test_student_with_one_attempt(model: KTModel, attempts):
    model.fit(attempts)
    one = pd.DataFrame(
        {"student_id": ["new"], "competency_id": ["c1"], "item_id": ["q1-0"], "correct": [1]}
    )
    p = model.predict_proba(one)
    assert p.shape == (1,) and 0 < p[0] < 1
    fresh = model.init_state()
    assert model.update(fresh, ("c1", 1, "q1-0")) == pytest.approx(p[0], abs=1e-12)


def test_unseen_competency_and_item(model: KTModel, attempts):
    model.fit(attempts)
    new = pd.DataFrame(
        {
            "student_id": ["a", "a", "a"],
            "competency_id": ["never-seen", "never-seen", "c0"],
            "item_id": ["zz", "zz", "zz"],
            "correct": [1, 0, 1],
        }
    )
    p = model.predict_proba(new)
    assert np.all(np.isfinite(p)) and np.all((p > 0) & (p < 1))


def test_empty_input(model: KTModel, attempts):
    model.fit(attempts)
    empty = attempts.iloc[:0]
    assert model.predict_proba(empty).shape == (0,)


def test_parameter_rules_name_the_parameter(model: KTModel, attempts):
    name = next(iter(type(model)._param_rules))
    bad = clone(model).set_params(**{name: -1})
    with pytest.raises(ValueError, match=name):
        bad.fit(attempts)


def test_boosted_chooses_its_blend_on_held_out_students(attempts, test_set):
    model = BoostedKT(max_iter=10, validation=0.3).fit(attempts)
    assert 0.0 <= model.blend_ <= 1.0
    assert np.all((model.predict_proba(test_set) > 0) & (model.predict_proba(test_set) < 1))
    with pytest.raises(ValueError, match="blend"):
        BoostedKT(blend=2.0).fit(attempts)
