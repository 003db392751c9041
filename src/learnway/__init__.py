"""Learnway: an open, self-hostable personalized-learning engine for schools.

The numeric packages (``learnway.learner``, ``learnway.paths``, ``learnway.sim``,
``learnway.analytics``) are pure: arrays and data frames in, arrays and data frames out.
``learnway.store`` keeps the school's data; ``learnway.cli`` is a thin shell over both.
"""

from learnway._errors import InputError, Problem

__version__ = "0.1.0"
__all__ = ["InputError", "Problem", "__version__"]
