"""Scored content: items, steps, hints, and answer checking.

:func:`read_oatutor` reads a course in OATutor's content format (for example OpenStax
Elementary Algebra, CC BY 4.0) into a validated :class:`Course`; :func:`check_answer` judges
a response to a step or scaffold (see docs/answers.md for the rules); :class:`AnswerChecker` runs
it in worker processes bounded in time and memory.
"""

from learnway.content._answers import (
    AnswerCheck,
    AnswerParseError,
    AnswerTooLarge,
    check_answer,
    parse_answer,
)
from learnway.content._checker import AnswerChecker, CheckerBusy, NeedsWorker
from learnway.content._model import ANSWER_TYPES, PROBLEM_TYPES, Course, Hint, Item, Step
from learnway.content._oatutor import read_oatutor

__all__ = [
    "ANSWER_TYPES",
    "PROBLEM_TYPES",
    "AnswerCheck",
    "AnswerChecker",
    "AnswerParseError",
    "AnswerTooLarge",
    "CheckerBusy",
    "Course",
    "Hint",
    "Item",
    "NeedsWorker",
    "Step",
    "check_answer",
    "parse_answer",
    "read_oatutor",
]
