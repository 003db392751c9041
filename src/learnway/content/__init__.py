"""Scored content: items, steps, hints, and answer checking.

:func:`read_oatutor` reads a course in OATutor's content format (for example OpenStax
Elementary Algebra, CC BY 4.0) into a validated :class:`Course`.
"""

from learnway.content._model import ANSWER_TYPES, PROBLEM_TYPES, Course, Hint, Item, Step
from learnway.content._oatutor import read_oatutor

__all__ = ["ANSWER_TYPES", "PROBLEM_TYPES", "Course", "Hint", "Item", "Step", "read_oatutor"]
