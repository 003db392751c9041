"""Deep Knowledge Tracing: a small recurrent network (LSTM) over each student's attempts."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from learnway.learner._base import (
    Attempt,
    Interval,
    KTModel,
    NoneOr,
    OneOf,
    Rule,
    Seed,
    encode,
    student_codes,
)
from learnway.learner._features import (
    N_SEQUENCE,
    N_SHARED,
    history_features,
    sequence_features,
)

EPS = 1e-7  # predictions are kept in [EPS, 1 - EPS]
N_FEATURES = N_SHARED + N_SEQUENCE  # the history features the feature head reads
LOOK_BACK = 10  # earlier runs searched for an echo (see sequence_features)
QUESTION_SIZE = 32  # size of the competency embedding the feature head reads


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("DKT needs torch: pip install 'learnway[deep]'") from None
    return torch


def _row_features(
    student: NDArray[np.int64], skill: NDArray[np.int64], correct: NDArray[np.int64], n_skills: int
) -> NDArray[np.float64]:
    """The history features of each row (rows of a student together, in time order): counts,
    rates and run features from the same student's earlier rows. An unseen competency
    (``skill == n_skills``) is coded -1, as the feature functions expect."""
    comp = np.where(skill < n_skills, skill, -1).astype(np.int64)
    outcome = correct.astype(np.int8)
    shared, _ = history_features(student, comp, outcome)
    return np.concatenate([shared, sequence_features(student, comp, outcome, LOOK_BACK)], axis=1)


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.clip(1.0 / (1.0 + np.exp(-x)), EPS, 1.0 - EPS))


class _Sequences:
    """A table's rows grouped by student (time order kept), as flat arrays plus offsets."""

    def __init__(self, X: pd.DataFrame, competencies: pd.Index, features: bool = False) -> None:
        students = student_codes(X)
        self.order = np.argsort(students, kind="stable")
        n_skills = len(competencies)
        skill = encode(X["competency_id"].to_numpy(), competencies)[self.order]
        correct = X["correct"].to_numpy().astype(np.int64)[self.order]
        self.skill = np.where(skill >= 0, skill, n_skills)  # unseen: the extra output row
        # input token: 2 * competency + outcome; an unseen competency is the zero input
        self.token = np.where(skill >= 0, 2 * skill + correct, 2 * n_skills)
        self.correct = correct
        self.lengths = np.bincount(students, minlength=int(students.max(initial=-1)) + 1)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.features = (
            _row_features(students[self.order], self.skill, correct, n_skills) if features else None
        )


def _lstm_logits(weights: dict[str, NDArray[np.float64]], seqs: _Sequences) -> NDArray[np.float64]:
    """Logit of each row (in ``seqs`` order) from the state before it: the LSTM run over every
    student's whole history at once, one time step at a time across students."""
    gates_of = weights["token_gates"]
    w_hh = weights["w_hh"]
    out_w, out_b = weights["out_w"], weights["out_b"]
    n = len(seqs.lengths)
    hidden = w_hh.shape[1]
    logits = np.empty(len(seqs.token))
    by_length = np.argsort(-seqs.lengths, kind="stable")
    lengths = seqs.lengths[by_length]
    starts = seqs.starts[by_length]
    h = np.zeros((n, hidden))
    c = np.zeros((n, hidden))
    head = "head_h" in weights
    for t in range(int(lengths[0]) if n else 0):
        m = int(np.searchsorted(-lengths, -t, side="left"))  # students with more than t rows
        rows = starts[:m] + t
        skill = seqs.skill[rows]
        logits[rows] = np.einsum("ij,ij->i", h[:m], out_w[skill]) + out_b[skill]
        if head:
            assert seqs.features is not None
            logits[rows] += _head(weights, h[:m], seqs.features[rows], skill)
        g = gates_of[seqs.token[rows]] + h[:m] @ w_hh.T
        i, f, gg, o = np.split(g, 4, axis=1)
        c[:m] = _sig(f) * c[:m] + _sig(i) * np.tanh(gg)
        h[:m] = _sig(o) * np.tanh(c[:m])
    return logits


def _sig(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _head(
    weights: dict[str, NDArray[np.float64]],
    h: NDArray[np.float64],
    features: NDArray[np.float64],
    skill: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The feature head's part of the logits: a hidden layer (ReLU) over the LSTM state, the
    history features and the competency's embedding (folded into ``head_q``), then a linear
    output."""
    z = h @ weights["head_h"].T + features @ weights["head_f"].T + weights["head_q"][skill]
    return np.asarray(np.maximum(z, 0.0) @ weights["head_out"] + weights["head_out_b"][0])


class DKT(KTModel):
    """Deep Knowledge Tracing (Piech et al., 2015): an LSTM reads each student's attempts as
    one-hot (competency, outcome) inputs (through a linear embedding) and predicts, from its
    state before an attempt, the probability that the attempt is correct on its competency.

    Training (torch, CPU) minimises the binary cross-entropy with Adam. Long histories are cut
    into windows of ``max_length`` attempts, each trained as a sequence of its own starting
    from an empty state (nothing is carried across windows); prediction runs the whole history
    of each student without cuts. ``validation`` of the training students, drawn with
    ``random_state``, are held out: after each epoch their log-loss is measured and training
    stops when it has not improved for ``patience`` epochs; the weights of the best epoch are
    kept (the model is not refitted on the held-out students).

    With ``features=True`` the output also adds a small feature head: one hidden layer (ReLU,
    ``hidden_size`` units, the same dropout) over the LSTM state, an embedding of the
    attempt's competency and the history features that the logistic and boosted models use
    (counts and recency-weighted rates per competency and overall, and the order-sensitive run
    features of :func:`~learnway.learner._features.sequence_features`, all from earlier rows
    only). The LSTM learns what the counts cannot say, the counts what a 100-unit state forgets.
    Its ``update`` keeps the student's attempts in the state and recomputes the features from
    them, so an update costs time in proportion to the history.

    Prediction, ``update`` and ``mastery`` use the learned weights in numpy (float64) and do
    not need torch. An unseen competency gives the LSTM a zero input and is predicted with the
    average output weights of the known competencies. Fitting is deterministic for a given
    ``random_state`` and ``n_threads`` (torch threads; None: every core).
    """

    _param_rules: ClassVar[dict[str, Rule]] = {
        "hidden_size": Interval(int, 1, None),
        "epochs": Interval(int, 1, None),
        "batch_size": Interval(int, 1, None),
        "learning_rate": Interval(float, 0.0, None, low_open=True),
        "dropout": Interval(float, 0.0, 1.0, high_open=True),
        "max_length": Interval(int, 2, None),
        "validation": Interval(float, 0.0, 1.0, low_open=True, high_open=True),
        "patience": Interval(int, 1, None),
        "random_state": Seed(),
        "n_threads": NoneOr(Interval(int, 1, None)),
        "features": OneOf((False, True)),
    }

    def __init__(
        self,
        *,
        hidden_size: int = 100,
        epochs: int = 20,
        batch_size: int = 32,
        learning_rate: float = 0.002,
        dropout: float = 0.2,
        max_length: int = 200,
        validation: float = 0.1,
        patience: int = 2,
        random_state: int | None = 0,
        n_threads: int | None = None,
        features: bool = False,
    ) -> None:
        self.hidden_size = hidden_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.max_length = max_length
        self.validation = validation
        self.patience = patience
        self.random_state = random_state
        self.n_threads = n_threads
        self.features = features

    def _fit(self, X: pd.DataFrame) -> None:
        torch = _import_torch()
        _, uniq = pd.factorize(X["competency_id"].to_numpy())
        self.competencies_ = pd.Index(uniq)
        self.base_rate_ = float(X["correct"].mean()) if len(X) else 0.5
        seed = (
            int(self.random_state)
            if self.random_state is not None
            else int(np.random.SeedSequence().entropy % 2**31)  # type: ignore[operator]
        )
        threads = self.n_threads or os.cpu_count() or 1
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.weights_, self.epochs_run_, self.best_epoch_ = self._train(torch, X, seed)
        finally:
            torch.set_num_threads(before)
        self.competency_index_ = {c: i for i, c in enumerate(self.competencies_.tolist())}

    def _train(
        self, torch: Any, X: pd.DataFrame, seed: int
    ) -> tuple[dict[str, NDArray[np.float64]], int, int]:
        n_skills, hidden = len(self.competencies_), int(self.hidden_size)
        features = bool(self.features)
        net = _network(torch, n_skills, hidden, float(self.dropout), features)
        if len(X) == 0:
            return _export(net, n_skills), 0, 0
        rng = np.random.default_rng(seed)
        students = student_codes(X)
        n_students = int(students.max()) + 1
        held = rng.random(n_students) < self.validation
        if n_students > 1 and held.all():
            held[rng.integers(n_students)] = False
        if n_students < 2 or not held.any():
            held[:] = False
        train_seqs = _Sequences(X[~held[students]], self.competencies_, features)
        valid = X[held[students]]
        valid_seqs = _Sequences(valid, self.competencies_, features) if len(valid) else None
        windows = _windows(train_seqs, int(self.max_length))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
        best_loss, best, best_epoch, stale, epoch = np.inf, _export(net, n_skills), 0, 0, 0
        for epoch in range(1, int(self.epochs) + 1):
            net.train()
            perm = rng.permutation(len(windows))
            for b in range(0, len(perm), int(self.batch_size)):
                batch = [windows[k] for k in perm[b : b + int(self.batch_size)]]
                tokens, skills, correct, mask, lengths, feats = _pad(torch, train_seqs, batch)
                logits = net(tokens, skills, lengths, feats)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits[mask], correct[mask]
                )
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                opt.step()
            weights = _export(net, n_skills)
            if valid_seqs is None:
                best, best_epoch = weights, epoch
                continue
            p = _sigmoid(_lstm_logits(weights, valid_seqs))
            y = valid_seqs.correct
            val_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
            if val_loss < best_loss:
                best_loss, best, best_epoch, stale = val_loss, weights, epoch, 0
            else:
                stale += 1
                if stale >= self.patience:
                    break
        return best, epoch, best_epoch

    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]:
        seqs = _Sequences(X, self.competencies_, bool(self.features))
        out = np.empty(len(X))
        out[seqs.order] = _sigmoid(_lstm_logits(self.weights_, seqs))
        return out

    def init_state(self) -> dict[str, Any]:
        self._check_fitted()
        hidden = self.weights_["w_hh"].shape[1]
        state: dict[str, Any] = {"h": np.zeros(hidden), "c": np.zeros(hidden), "competencies": {}}
        if "head_h" in self.weights_:
            state["skills"], state["outcomes"] = [], []
        return state

    def _code(self, competency: Any) -> int:
        return self.competency_index_.get(competency, len(self.competencies_))

    def _logits(self, state: dict[str, Any], codes: NDArray[np.int64]) -> NDArray[np.float64]:
        """The logit of a next attempt on each of ``codes``; with the feature head, the history
        features of all of them come from one pass (each candidate after the whole history)."""
        w = self.weights_
        logits = w["out_w"][codes] @ state["h"] + w["out_b"][codes]
        if "head_h" in w:
            k, n = len(codes), len(state["skills"])
            history = np.tile(np.asarray(state["skills"], dtype=np.int64), (k, 1))
            skills = np.concatenate([history, codes[:, None]], axis=1).ravel()
            outcomes = np.tile(np.asarray([*state["outcomes"], 0], dtype=np.int64), k)
            student = np.repeat(np.arange(k, dtype=np.int64), n + 1)
            features = _row_features(student, skills, outcomes, len(self.competencies_))
            h = np.broadcast_to(state["h"], (k, state["h"].size))
            logits = logits + _head(w, h, features[n :: n + 1], codes)
        return np.asarray(logits)

    def _update(self, state: dict[str, Any], attempt: Attempt) -> float:
        code = self._code(attempt.competency_id)
        p = float(_sigmoid(self._logits(state, np.array([code])))[0])
        n_skills = len(self.competencies_)
        token = 2 * code + int(attempt.correct) if code < n_skills else 2 * n_skills
        w = self.weights_
        g = w["token_gates"][token] + w["w_hh"] @ state["h"]
        i, f, gg, o = np.split(g, 4)
        state["c"] = _sig(f) * state["c"] + _sig(i) * np.tanh(gg)
        state["h"] = _sig(o) * np.tanh(state["c"])
        state["competencies"][attempt.competency_id] = code
        if "skills" in state:
            state["skills"].append(code)
            state["outcomes"].append(int(attempt.correct))
        return p

    def bounded_state(self) -> bool:
        """Without the feature head the state is the LSTM's two vectors (and the competencies
        tried); the feature head reads the whole history."""
        return not self.features

    def predict_next(self, state: dict[str, Any], competency_id: Any, item_id: Any = None) -> float:
        self._check_fitted()
        return float(_sigmoid(self._logits(state, np.array([self._code(competency_id)])))[0])

    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        """Probability of a correct next answer on each competency the student has tried."""
        tried = state["competencies"]
        codes = np.fromiter(tried.values(), dtype=np.int64, count=len(tried))
        return dict(zip(tried, _sigmoid(self._logits(state, codes)).tolist(), strict=True))


def _network(torch: Any, n_skills: int, hidden: int, dropout: float, features: bool) -> Any:
    nn = torch.nn

    class Net(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(2 * n_skills + 1, hidden, padding_idx=2 * n_skills)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
            self.drop = nn.Dropout(dropout)
            self.out_w = nn.Embedding(n_skills + 1, hidden)
            self.out_b = nn.Embedding(n_skills + 1, 1)
            nn.init.zeros_(self.out_b.weight)
            nn.init.normal_(self.out_w.weight, std=hidden**-0.5)
            if features:
                self.question = nn.Embedding(n_skills + 1, QUESTION_SIZE)
                self.hidden = nn.Linear(hidden + N_FEATURES + QUESTION_SIZE, hidden)
                self.head_out = nn.Linear(hidden, 1)

        def forward(self, tokens: Any, skills: Any, lengths: Any, feats: Any) -> Any:
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embed(tokens), lengths, batch_first=True, enforce_sorted=False
            )
            out, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=tokens.shape[1]
            )
            before = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
            before = self.drop(before)
            logits = (before * self.out_w(skills)).sum(-1) + self.out_b(skills).squeeze(-1)
            if features:
                z = torch.cat([before, feats, self.question(skills)], dim=-1)
                z = self.drop(torch.relu(self.hidden(z)))
                logits = logits + self.head_out(z).squeeze(-1)
            return logits

    return Net()


def _export(net: Any, n_skills: int) -> dict[str, NDArray[np.float64]]:
    """The network's weights as float64 numpy arrays for prediction; the output rows of an
    unseen competency are the average of the known ones."""

    def arr(t: Any) -> NDArray[np.float64]:
        return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)

    embed = arr(net.embed.weight)
    w_ih, w_hh = arr(net.lstm.weight_ih_l0), arr(net.lstm.weight_hh_l0)
    bias = arr(net.lstm.bias_ih_l0) + arr(net.lstm.bias_hh_l0)
    out_w, out_b = arr(net.out_w.weight), arr(net.out_b.weight)[:, 0]
    weights = {
        "token_gates": embed @ w_ih.T + bias,
        "w_hh": np.ascontiguousarray(w_hh),
        "out_w": out_w,
        "out_b": out_b,
    }
    if hasattr(net, "question"):
        w1, b1 = arr(net.hidden.weight), arr(net.hidden.bias)
        hidden = out_w.shape[1]
        weights["head_h"] = np.ascontiguousarray(w1[:, :hidden])
        weights["head_f"] = np.ascontiguousarray(w1[:, hidden : hidden + N_FEATURES])
        weights["head_q"] = arr(net.question.weight) @ w1[:, hidden + N_FEATURES :].T + b1
        weights["head_out"] = arr(net.head_out.weight)[0]
        weights["head_out_b"] = arr(net.head_out.bias)
    for name in ("out_w", "out_b", "head_q"):  # the row of an unseen competency
        if name in weights:
            rows = weights[name]
            rows[n_skills] = rows[:n_skills].mean(axis=0) if n_skills else 0.0
    return weights


def _windows(seqs: _Sequences, max_length: int) -> list[tuple[int, int]]:
    """(start, length) of the training windows: each history cut every ``max_length`` rows."""
    out = []
    for start, length in zip(seqs.starts.tolist(), seqs.lengths.tolist(), strict=True):
        for s in range(0, length, max_length):
            out.append((start + s, min(max_length, length - s)))
    return out


def _pad(torch: Any, seqs: _Sequences, batch: list[tuple[int, int]]) -> tuple[Any, ...]:
    lengths = np.array([n for _, n in batch])
    width = int(lengths.max())
    rows = np.array([s for s, _ in batch])[:, None] + np.arange(width)[None, :]
    mask = np.arange(width)[None, :] < lengths[:, None]
    rows = np.where(mask, rows, 0)
    feats = None
    if seqs.features is not None:
        feats = torch.from_numpy((seqs.features[rows] * mask[..., None]).astype(np.float32))
    return (
        torch.from_numpy(np.where(mask, seqs.token[rows], 0)),
        torch.from_numpy(np.where(mask, seqs.skill[rows], 0)),
        torch.from_numpy(seqs.correct[rows].astype(np.float32)),
        torch.from_numpy(mask),
        torch.from_numpy(lengths),
        feats,
    )
