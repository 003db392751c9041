"""Which passwords may be chosen (NIST SP 800-63B, section on memorized secrets).

A new password must be at least :data:`MIN_PASSWORD` and at most :data:`MAX_PASSWORD`
characters (one maximum for setting and for signing in, so that every password that can be set
can be used); it must not be on the shipped list of common and breached passwords
(``data/passwords/``, compared case-insensitively), be one character or a short pattern
repeated (``aaaaaaaaaa``, ``abcabcabcabc``), be a run of consecutive characters
(``1234567890``, ``abcdefghijk``), or contain the username. There are no composition rules.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources
from itertools import pairwise

from learnway.web._schemas import MAX_PASSWORD

MIN_PASSWORD = 10


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, lower-cased."""
    path = resources.files("learnway.data") / "passwords" / "common-passwords.txt.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        return frozenset(line.strip().lower() for line in text if line.strip())


def _repeats_a_pattern(password: str) -> bool:
    """A block of at most four characters repeated to make the whole password."""
    n = len(password)
    return any(n % size == 0 and password == password[:size] * (n // size) for size in range(1, 5))


def _is_a_run(password: str) -> bool:
    """Every character one more (or one less) than the one before it."""
    steps = {ord(b) - ord(a) for a, b in pairwise(password)}
    return steps in ({1}, {-1})


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Why ``password`` cannot be chosen, in words for its owner; ``None`` when it can."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    lowered = password.lower()
    if _repeats_a_pattern(lowered) or _is_a_run(lowered):
        return "A repeated or consecutive run of characters is too easy to guess."
    if lowered in common_passwords() or lowered.rstrip("0123456789!") in common_passwords():
        return "This password is on a list of common or breached passwords; choose another."
    if username and len(username) >= 3 and username.lower() in lowered:
        return "The password must not contain your username."
    return None


__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "common_passwords", "password_problem"]
