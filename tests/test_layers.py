"""The package's layers import one way (issue "The house").

A unit is a top-level module or subpackage of ``lvbalance``. Every import of another
unit, including imports inside functions, must go to a lower layer; units of one layer do
not import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lvbalance

PACKAGE = Path(lvbalance.__file__).parent

LAYERS: list[set[str]] = [
    {"dims", "params", "junctions"},  # names and settings
    {"case", "results"},  # the case and the typed results
    {"io"},  # reading and writing cases, imports of networks and streets
    {"data", "coupling", "profiles", "summary"},  # the default case; streets and moves; scenarios; a case's overview
    {"flows"},  # radial flow physics (Eq 14-15, 19-21)
    {"model"},  # the two-stage MILP
    {"evaluate", "powerflow"},  # what a plan achieves, re-check, out-of-sample, AC check
    {"report"},  # figures, map, report page
    {"pipeline"},  # the whole job on one case
    {"batch"},  # many areas at once on Dask
    {"cli"},  # the command
]
LAYER_OF = {unit: k for k, units in enumerate(LAYERS) for unit in units}


def unit_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_units(path: Path) -> set[str]:
    """Units of ``lvbalance`` that the module at ``path`` imports (anywhere in it)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use absolute imports")
        for name in names:
            parts = name.split(".")
            if parts[0] == "lvbalance" and len(parts) > 1:
                out.add(parts[1])
    return out


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(p) for p in modules()}
    assert units - set(LAYER_OF) == set(), "add new units to LAYERS"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down(path: Path) -> None:
    me = unit_of(path)
    up = {u for u in imported_units(path) - {me} if LAYER_OF[u] >= LAYER_OF[me]}
    assert not up, f"{me} (layer {LAYER_OF[me]}) imports {sorted(up)} from its own or a higher layer"


def test_a_module_importing_a_higher_layer_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: an import of ``report`` inside a function of ``model`` is found."""
    fake = PACKAGE / "model" / "solve.py"
    src = tmp_path / "solve.py"
    src.write_text(fake.read_text() + "\n\ndef _late():\n    from lvbalance.report import figures  # noqa: F401\n")
    assert "report" in imported_units(src)
