"""Output folders: checked before any work, written all at once, never in the case."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvbalance.io.outdir import OutputFolderError, check_output_folder, staged_output


def test_a_run_appears_only_when_it_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as work:
        (work / "plan.json").write_text("{}")
        assert not out.exists() and work.parent == tmp_path
    assert (out / "plan.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_run_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("old")
    with pytest.raises(RuntimeError), staged_output(out, overwrite=True) as work:
        (work / "plan.json").write_text("{}")
        raise RuntimeError("solver")
    assert sorted(p.name for p in out.iterdir()) == ["old.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_replaces_the_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "m1").mkdir(parents=True)
    (out / "m1" / "stale.csv").write_text("old")
    with staged_output(out, overwrite=True) as work:
        (work / "plan.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_existing_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with staged_output(tmp_path / "out") as work:
        (work / "a").write_text("1")
    assert (tmp_path / "out" / "a").is_file()


@pytest.mark.parametrize(
    ("out", "case", "overwrite", "message"),
    [
        ("case/out", "case", False, "inside the case directory"),
        ("case", "case", False, "inside the case directory"),
        (".", "case", True, "holds the case directory"),
        ("file", None, False, "is a file"),
        ("file/out", None, False, "is a file, not a folder"),
        ("full", None, False, "not empty: pass --overwrite"),
        ("cases", None, True, "holds a case directory"),
    ],
)
def test_refusals(out: str, case: str | None, overwrite: bool, message: str, tmp_path: Path) -> None:
    (tmp_path / "case").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.csv").write_text("x")
    (tmp_path / "cases" / "one").mkdir(parents=True)
    (tmp_path / "cases" / "one" / "case.toml").write_text("")
    with pytest.raises(OutputFolderError, match=message):
        check_output_folder(tmp_path / out, case_dir=tmp_path / case if case else None, overwrite=overwrite)


def test_the_current_directory_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.csv").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputFolderError, match="current directory"):
        check_output_folder(".", overwrite=True)
