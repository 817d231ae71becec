import os
import signal
import subprocess
import sys
import time

import pytest

from kerasopt.core.errors import KerasoptError, OutputLockedError
from kerasopt.core.locking import LOCK_FILE, output_lock

_HOLD = """
import sys, time
from kerasopt.core.locking import output_lock
with output_lock(sys.argv[1], "kerasopt run digits"):
    print("locked", flush=True)
    time.sleep(60)
"""


def _holder(folder):
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_second_process_is_refused_naming_the_first(tmp_path):
    process = _holder(tmp_path)
    try:
        started = time.perf_counter()
        with pytest.raises(OutputLockedError) as caught:
            with output_lock(tmp_path):
                pass
        assert time.perf_counter() - started < 1.0
        message = str(caught.value)
        assert f"process {process.pid}" in message and "kerasopt run digits" in message
        assert "\n" not in message and isinstance(caught.value, KerasoptError)
    finally:
        process.kill()
        process.wait()


def test_lock_of_a_killed_process_is_taken_over(tmp_path, caplog):
    process = _holder(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert (tmp_path / LOCK_FILE).read_text()  # the dead holder's record is still there
    with caplog.at_level("INFO", logger="kerasopt.core.locking"):
        with output_lock(tmp_path):
            pass
    assert f"left by process {process.pid}" in caplog.text


def test_same_process_may_nest(tmp_path):
    with output_lock(tmp_path):
        with output_lock(tmp_path / "."):
            pass
        with output_lock(tmp_path / "compressed"):
            pass


def test_a_folder_the_run_created_and_left_empty_is_removed(tmp_path):
    with pytest.raises(RuntimeError):
        with output_lock(tmp_path / "new"):
            raise RuntimeError("failed before writing anything")
    assert not (tmp_path / "new").exists()
    with output_lock(tmp_path / "kept"):
        (tmp_path / "kept" / "report.json").write_text("{}")
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [LOCK_FILE, "report.json"]
    (tmp_path / "existing").mkdir()
    with output_lock(tmp_path / "existing"):
        pass
    assert (tmp_path / "existing").is_dir()
