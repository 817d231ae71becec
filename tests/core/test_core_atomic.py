import json
import os
import stat

import pytest

from kerasopt.core.atomic import atomic_path, write_text_atomic


def test_write_replaces_whole_file(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "model.tflite"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_temp_keeps_suffix(tmp_path):
    with atomic_path(tmp_path / "model.keras") as tmp:
        assert tmp.suffix == ".keras" and tmp.parent == tmp_path
        tmp.write_bytes(b"x")


def test_artifacts_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.json", "{}")
        with atomic_path(tmp_path / "model.keras") as tmp:
            tmp.write_bytes(b"x")
        os.umask(0o077)
        write_text_atomic(tmp_path / "private.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "model.keras").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_write_report_files_writes_both_and_strs_what_json_cannot_hold(tmp_path):
    from kerasopt.core.atomic import write_report_files

    out = write_report_files(tmp_path / "run", {"path": tmp_path, "acc": 0.5}, "# Report\n")
    assert json.loads((out / "report.json").read_text()) == {"path": str(tmp_path), "acc": 0.5}
    assert (out / "report.md").read_text() == "# Report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md"]
