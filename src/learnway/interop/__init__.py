"""Standard formats in and out: OneRoster rosters (CSV bundles)."""

from learnway.interop._oneroster import Roster, read_oneroster

__all__ = ["Roster", "read_oneroster"]
