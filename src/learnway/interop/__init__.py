"""Standard formats in and out: OneRoster rosters (CSV bundles), CASE frameworks (JSON)."""

from learnway.interop._case import read_case
from learnway.interop._oneroster import Roster, read_oneroster

__all__ = ["Roster", "read_case", "read_oneroster"]
