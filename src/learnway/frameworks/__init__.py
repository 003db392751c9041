"""Competency frameworks: standards and skills, their hierarchy and prerequisite graph.

Readers return a validated :class:`Framework`; a cycle, a dangling reference, a duplicate code
or a malformed record raises :class:`learnway.InputError` naming the file and the record.
"""

from learnway.frameworks._ccssm import read_ccssm
from learnway.frameworks._model import (
    KINDS,
    Competency,
    Framework,
    find_cycle,
    topological_order,
)

__all__ = ["KINDS", "Competency", "Framework", "find_cycle", "read_ccssm", "topological_order"]
