"""Runs shared by the pipeline tests: a quick digits run (compressed) and a small imdb run."""

import pytest

from kerasopt.pipeline import run_scenario
from kerasopt.text.review_corpus import write_aclimdb


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """`(out, report)` of `run_scenario("digits", quick=True)` with channel pruning."""
    out = tmp_path_factory.mktemp("digits_quick")
    compress = {"channels": 0.5, "epochs": 1, "max_epochs": 2, "learning_rate": 1e-2}
    return out, run_scenario("digits", out_dir=out, quick=True, verbose=0, compress=compress)


@pytest.fixture(scope="session")
def imdb_run(tmp_path_factory):
    """`(out, report)` of the bow model trained 4 epochs on a generated aclImdb corpus."""
    root = tmp_path_factory.mktemp("imdb")
    corpus = write_aclimdb(root / "aclImdb", n_train=500, n_test=200, seed=0)
    out = root / "out"
    report = run_scenario("imdb", model="bow", data_path=corpus, out_dir=out, epochs=4, verbose=0)
    return out, report
