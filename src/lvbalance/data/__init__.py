"""The embedded default case: area 1 of the Schutterwald LV grid (see ``default_case/ATTRIBUTION.md``).

Rebuilt deterministically by ``scripts/build_default_case.py``.
"""

from __future__ import annotations

from pathlib import Path

from lvbalance.case import Case


def default_case_path() -> Path:
    """Folder of the embedded default case directory."""
    return Path(__file__).resolve().parent / "default_case"


def load_default_case() -> Case:
    """Read (and validate) the embedded default case."""
    from lvbalance.io.casedir import read_case

    return read_case(default_case_path())
