"""keras-tuner's chief/worker mode on 127.0.0.1, and a killed search resumed."""

import csv
import json
import os
import signal
import socket
import subprocess
import time

import pytest
from tuning_specs import DENSE_RANDOM, write_spec

from kerasopt.tuning import SearchJob, process_recycling


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _search_process(job: SearchJob, job_file, **popen):
    """A search in its own process, through the library entry point a chain uses."""
    job_file.write_text(job.to_json())
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(process_recycling.child_command(job_file), env=env, **popen)


def _rows(out):
    with open(out / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_chief_and_two_workers_share_one_search(tmp_path):
    spec = write_spec(tmp_path, DENSE_RANDOM, max_trials=4)
    out = tmp_path / "out"
    oracle = f"127.0.0.1:{_free_port()}"
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("chief", "w0", "w1")}

    def start(name, **role):
        job = SearchJob(str(spec), out=str(out), oracle=oracle, **role)
        log = {"stdout": logs[name], "stderr": subprocess.STDOUT}
        return _search_process(job, tmp_path / f"{name}.json", **log)

    chief = start("chief", distributed="chief")
    workers = [start(name, distributed="worker", tuner_id=name) for name in ("w0", "w1")]
    try:
        for process in [*workers, chief]:
            assert process.wait(timeout=240) == 0, (tmp_path / "chief.log").read_text()[-2000:]
    finally:
        for process in [chief, *workers]:
            process.kill()
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["COMPLETED"] * 4
    assert all(float(r["objective"]) > 0 for r in rows)
    ran = {
        name: json.loads((out / "workers" / f"{name}.json").read_text())["trials"]
        for name in ("w0", "w1")
    }
    assert ran["w0"] and ran["w1"], ran  # both workers completed trials
    assert sorted(ran["w0"] + ran["w1"]) == sorted(r["trial_id"] for r in rows)
    summary = json.loads((out / "search.json").read_text())
    assert summary["workers"] == ran and "best" in summary
    assert (out / "best_model.keras").exists()


@pytest.mark.slow
def test_killed_search_resumes_without_rerunning_finished_trials(tmp_path):
    spec = write_spec(tmp_path, DENSE_RANDOM, max_trials=5)
    out = tmp_path / "out"
    process = _search_process(
        SearchJob(str(spec), out=str(out)),
        tmp_path / "job.json",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    finished = {}
    deadline = time.monotonic() + 180
    try:
        while len(finished) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            for path in (out / "search").glob("trial_*/trial.json"):
                try:
                    trial = json.loads(path.read_text())
                except ValueError:  # being written
                    continue
                if trial["status"] == "COMPLETED":
                    finished[trial["trial_id"]] = trial
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert len(finished) >= 2, "the search did not finish two trials in time"
    assert not (out / "trials.csv").exists()  # killed before the end

    report = SearchJob(str(spec), out=str(out), verbose=0).run()
    rows = {r["trial_id"]: r for r in _rows(out)}
    assert len(rows) == 5 and all(r["status"] == "COMPLETED" for r in rows.values())
    for trial_id, before in finished.items():
        after = json.loads((out / "search" / f"trial_{trial_id}" / "trial.json").read_text())
        assert after == before  # untouched: not rerun
    summary = json.loads((out / "search.json").read_text())
    assert summary["this_run"]["trials"] == 5 - len(finished)
    assert report.this_run.trials == 5 - len(finished) and report.trials == 5


@pytest.mark.slow
def test_trials_per_process_chains_child_processes_through_one_search(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, DENSE_RANDOM, max_trials=3)
    out = tmp_path / "out"
    commands, call = [], subprocess.call

    def record(command, *args, **kwargs):
        commands.append(command)
        return call(command, *args, **kwargs)

    monkeypatch.setattr(process_recycling.subprocess, "call", record)
    report = SearchJob(str(spec), out=str(out), trials_per_process=2).run()
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["COMPLETED"] * 3
    summary = json.loads((out / "search.json").read_text())
    assert summary["this_run"]["processes"] == 2 and summary["this_run"]["trials"] == 3
    assert (out / "best_model.keras").exists()
    assert report.this_run.processes == 2 and report.best is not None
    assert "3 trials in 2 processes of at most 2 trials" in report.summary_text()
    # Each child runs the library entry point on a JSON job, never the CLI.
    assert len(commands) == 2
    assert all(c[1:3] == ["-m", "kerasopt.tuning"] and "kerasopt.cli" not in c for c in commands)
    assert not (out / process_recycling.JOB_FILE).exists()


def _edit_json(path, edit):
    state = json.loads(path.read_text())
    edit(state)
    path.write_text(json.dumps(state))


def test_a_kill_between_the_trial_file_and_the_oracle_file_resumes_cleanly(tmp_path):
    # keras-tuner writes trial.json, then oracle.json; these are the two states a kill
    # between them leaves (one made this test's predecessor fail in CI).
    spec = write_spec(tmp_path, DENSE_RANDOM, max_trials=3)
    out = tmp_path / "out"
    SearchJob(str(spec), out=str(out), verbose=0).run()
    search = out / "search"
    finished = json.loads((search / "trial_0" / "trial.json").read_text())

    def unknown_to_the_oracle(state):  # (a) killed just after trial_2's trial.json
        state["start_order"].remove("2")
        state["end_order"].remove("2")

    def still_ongoing(state):  # (b) killed just after trial_0 said COMPLETED
        state["end_order"].remove("0")
        state["ongoing_trials"] = {"tuner0": "0"}

    _edit_json(search / "trial_2" / "trial.json", lambda t: t.update(status="RUNNING"))
    _edit_json(search / "oracle.json", unknown_to_the_oracle)
    _edit_json(search / "oracle.json", still_ongoing)
    (out / "trials.csv").unlink()

    report = SearchJob(str(spec), out=str(out), verbose=0).run()
    rows = _rows(out)
    assert sorted(r["trial_id"] for r in rows) == ["0", "1", "2"]
    assert [r["status"] for r in rows] == ["COMPLETED"] * 3
    assert json.loads((search / "trial_0" / "trial.json").read_text()) == finished
    assert report.this_run.trials == 1  # trial 2 ran again; trial 0 did not
