"""A `kerasopt run` killed with SIGKILL mid-training resumes from its last epoch."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow


def _kerasopt(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    return [sys.executable, "-m", "kerasopt.cli", *args], env


def test_killed_run_resumes_from_last_finished_epoch(tmp_path):
    out = tmp_path / "run"
    command, env = _kerasopt("run", "digits", "--epochs", "6", "--out", str(out))
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    metadata = out / "_backup" / "training_metadata.json"
    deadline = time.monotonic() + 120
    killed_after = 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if metadata.is_file():
                try:
                    killed_after = json.loads(metadata.read_text())["epoch"]
                except (ValueError, KeyError):
                    killed_after = 0
                if killed_after >= 2:
                    process.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert killed_after >= 2, "the run never reached epoch 2 before the deadline"
    assert not (out / "report.json").exists() and not (out / "model_int8.tflite").exists()

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resumed from epoch" in resumed.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["train"]["resumed_from_epoch"] >= killed_after
    assert report["train"]["resumed_from_epoch"] + report["train"]["epochs_run"] == 6
    assert not (out / "_backup").exists()
