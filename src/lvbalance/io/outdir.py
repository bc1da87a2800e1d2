"""The output folder of a run: never in the case, never mixed with old files, all or nothing.

:func:`staged_output` checks the destination before any work and hands out a temporary
sibling folder to write into; at the end the temporary folder is renamed into place (and an
old folder, with ``overwrite``, swapped out and removed). A run that fails leaves the
destination as it was. Every refusal is an :class:`OutputFolderError` (a ``ValueError``:
the command exits with code 2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputFolderError(ValueError):
    """The output folder cannot be used; the message names it and says why."""


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(out: str | Path, *, case_dir: str | Path | None = None, overwrite: bool = False) -> Path:
    """Raise :class:`OutputFolderError` unless ``out`` may receive a run's outputs; return it resolved.

    Refused: ``out`` inside or equal to ``case_dir`` (outputs never go into a case) or holding
    it (replacing ``out`` would delete the case); a file; an existing non-empty folder unless
    ``overwrite``; with ``overwrite``, a folder holding a case directory (``case.toml``) or the
    current working directory; a destination whose parent is a file or cannot be written.
    """
    dest = Path(out).expanduser().resolve()
    if case_dir is not None:
        case = Path(case_dir).expanduser().resolve()
        if _is_within(dest, case):
            raise OutputFolderError(
                f"output folder {out} is inside the case directory {case_dir}: outputs never go into a case; use -o elsewhere"
            )
        if _is_within(case, dest):
            raise OutputFolderError(f"output folder {out} holds the case directory {case_dir}: choose a folder outside it")
    if dest.exists() and not dest.is_dir():
        raise OutputFolderError(f"output folder {out} is a file")
    if dest.is_dir() and any(dest.iterdir()):
        if not overwrite:
            raise OutputFolderError(
                f"output folder {out} exists and is not empty: pass --overwrite to replace it, or choose another with -o"
            )
        if _is_within(Path.cwd().resolve(), dest):
            raise OutputFolderError(f"output folder {out} holds the current directory: it cannot be replaced")
        if (dest / "case.toml").exists() or any(dest.glob("*/case.toml")) or any(dest.glob("*/*/case.toml")):
            raise OutputFolderError(f"output folder {out} holds a case directory (case.toml): it is not replaced; choose another with -o")
    parent = next((p for p in dest.parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise OutputFolderError(f"cannot create output folder {out}: {parent} is a file, not a folder")
    return dest


@contextlib.contextmanager
def staged_output(out: str | Path, *, case_dir: str | Path | None = None, overwrite: bool = False) -> Iterator[Path]:
    """A temporary sibling of ``out`` to write into; renamed to ``out`` when the block succeeds.

    Checks ``out`` first (:func:`check_output_folder`). On an exception in the block the
    temporary folder is removed and ``out`` is left as it was. With ``overwrite`` an existing
    ``out`` is replaced as a whole: moved aside, the new folder renamed in, the old one removed.
    """
    dest = check_output_folder(out, case_dir=case_dir, overwrite=overwrite)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise OutputFolderError(f"cannot write the output folder {out}: {exc.strerror or exc}") from None
    try:
        yield tmp
        _swap_in(tmp, dest, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, dest: Path, out: str | Path) -> None:
    old: Path | None = None
    try:
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, old / dest.name)
        os.replace(tmp, dest)
    except OSError as exc:
        if old is not None and (old / dest.name).exists() and not dest.exists():
            os.replace(old / dest.name, dest)  # put the old folder back
        raise OutputFolderError(f"cannot write the output folder {out}: {exc.strerror or exc}") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
