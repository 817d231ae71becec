"""`SearchJob`: checks, its JSON form, and the child command of a process chain."""

import json
import sys

import pytest

from kerasopt.core.errors import InvalidValueError, KerasoptError
from kerasopt.export import DeploymentMetrics
from kerasopt.tuning import BestTrial, RunTiming, SearchJob, SearchReport, SpecError
from kerasopt.tuning.process_recycling import child_command


def test_job_round_trips_through_json(tmp_path):
    job = SearchJob(
        tmp_path / "spec.toml",
        out=tmp_path / "out",
        max_trials=3,
        overwrite=True,
        data_path="mnist.npz",
        tensorboard=True,
        stop_after=2,
        verbose=0,
    )
    assert job.spec == str(tmp_path / "spec.toml") and job.out == str(tmp_path / "out")
    assert SearchJob.from_json(job.to_json()) == job
    assert json.loads(job.to_json())["stop_after"] == 2


def test_unknown_job_field_is_named_with_the_valid_ones():
    with pytest.raises(InvalidValueError, match=r"'max_trial'.*Did you mean 'max_trials'"):
        SearchJob.from_json(json.dumps({"spec": "digits", "max_trial": 3}))


def test_child_processes_run_the_library_entry_point_not_the_cli(tmp_path):
    command = child_command(tmp_path / "job.json")
    assert command == [sys.executable, "-m", "kerasopt.tuning", str(tmp_path / "job.json")]
    assert not any("kerasopt.cli" in part for part in command)


@pytest.mark.parametrize(
    ("job", "match"),
    [
        (
            {"engine": "sklearn", "distributed": "chief", "oracle": "h:1"},
            r"--distributed and --tensorboard need --engine keras-tuner.*distributed='chief'",
        ),
        (
            {"engine": "sklearn", "tensorboard": True},
            r"--distributed and --tensorboard need --engine keras-tuner.*tensorboard=True",
        ),
        ({"engine": "sklearn", "trials_per_process": 2}, r"--trials-per-process needs --engine"),
        (
            {"trials_per_process": 2, "distributed": "chief", "oracle": "h:1"},
            r"--trials-per-process runs a local search; drop --distributed",
        ),
        ({"trials_per_process": 2, "stop_after": 1}, r"stop_after is what each child.*one of"),
        ({"engine": "sklarn"}, r"Unknown search engine 'sklarn'.*Did you mean 'sklearn'"),
        (
            {"max_trials": 0},
            r"SearchJob: expected max_trials to be an integer >= 1\. Received: max_trials=0\.",
        ),
        ({"tuner_id": "w0"}, r"--oracle and --tuner-id need --distributed"),
        ({"distributed": "worker", "oracle": "h:1"}, r"A worker needs --tuner-id"),
    ],
    ids=["sk-dist", "sk-tb", "sk-chain", "chain-dist", "chain-stop", "engine", "trials", "id", "w"],
)
def test_impossible_combinations_fail_before_anything_runs(job, match):
    with pytest.raises(KerasoptError, match=match):
        SearchJob("no/such/spec.toml", **job).run()


def test_a_missing_spec_fails_in_one_line():
    with pytest.raises(KerasoptError, match=r"'no/such/spec.toml' does not exist"):
        SearchJob("no/such/spec.toml").run()
    assert issubclass(SpecError, KerasoptError)


def test_report_round_trips_through_its_dict():
    metrics = DeploymentMetrics("int8", "test", 360, 0.97, None, 9000, 5000, 31.0)
    report = SearchReport(
        spec="s",
        engine="keras-tuner",
        out="o",
        tuner="random",
        objective="tflite_int8_accuracy",
        direction="max",
        hyperparameters=("units",),
        trials=2,
        completed=2,
        this_run=RunTiming(2, 10.0, 8.0, 0.2),
        best=BestTrial("1", 0.95, {"units": 8}, test_accuracy=0.96, int8=metrics),
        rss_mb=(800.0, 801.0),
        trials_run=("0", "1"),
    )
    values = json.loads(json.dumps(report.to_dict()))
    assert list(values)[0] == "schema_version"
    assert (
        values["best"]["int8"]["accuracy"] == 0.97 and "probabilities" not in values["best"]["int8"]
    )
    assert SearchReport.from_dict(values) == report


def test_reports_of_a_worker_and_of_a_link_of_a_chain_say_what_they_did():
    common = dict(spec="s", engine="keras-tuner", out="o", tuner="random")
    common.update(objective="val_accuracy", direction="max", trials_run=("3", "4"))
    worker = SearchReport(**common, tuner_id="w0", this_run=RunTiming(2, 12.0, None, None))
    assert (
        worker.summary_text()
        == "Worker w0 ran 2 trials in 12 s; the chief writes the results to o/."
    )
    link = SearchReport(**common, finished=False, this_run=RunTiming(2, 12.0, None, None))
    assert link.summary_text() == "Ran 2 trials; the search goes on from o/."
