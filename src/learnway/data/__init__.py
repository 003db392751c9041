"""Content shipped with Learnway (see README.md here for licences and attribution)."""

from pathlib import Path

DATA = Path(__file__).parent
CCSSM = DATA / "ccssm"
ELEMENTARY_ALGEBRA = DATA / "oatutor-elementary-algebra.tar.gz"

__all__ = ["CCSSM", "DATA", "ELEMENTARY_ALGEBRA"]
