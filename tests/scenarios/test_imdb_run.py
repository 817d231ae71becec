"""`kerasopt run imdb`: tokenizer files, text model, TFLite on LiteRT, report, mistakes."""

import json

import numpy as np
import pytest

from kerasopt.cli.main import main
from kerasopt.scenarios import run_imdb
from kerasopt.text.review_corpus import write_aclimdb, write_imdb_npz


@pytest.fixture(scope="module")
def bow_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("imdb")
    corpus = write_aclimdb(root / "aclImdb", n_train=500, n_test=200, seed=0)
    out = root / "out"
    return run_imdb(model="bow", data_path=corpus, out_dir=out, epochs=4, verbose=0), out


def test_report_has_the_digits_shape_and_every_artifact(bow_report):
    report, out = bow_report
    for name in ("model.keras", "model_int8.tflite", "vocab.txt", "tokenizer.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "report.json").read_text())["scenario"] == "imdb"
    assert "Most confident mistakes" in (out / "report.md").read_text()
    lite = report["tflite"]["int8"]
    assert lite["full_integer"] and lite["reason"] is None
    for key in ("accuracy", "agreement", "bytes", "gzip_bytes", "latency_us", "error_analysis"):
        assert key in lite
    assert report["dataset"]["sizes"] == {"train": 450, "val": 50, "test": 200}
    assert report["keras"]["accuracy"] > 0.7  # learned the synthetic sentiment


def test_litert_int8_matches_keras_and_the_python_tokenizer_matches_the_vectorizer(bow_report):
    report, _ = bow_report
    lite = report["tflite"]["int8"]
    assert lite["agreement"] >= 0.98
    assert abs(lite["accuracy"] - report["keras"]["accuracy"]) <= 0.01
    assert report["tokenizer"]["agreement"] == 1.0 and report["tokenizer"]["reviews"] == 200


def test_confident_mistakes_are_real_mistakes_in_confidence_order(bow_report):
    report, _ = bow_report
    mistakes = report["confident_mistakes"]
    assert mistakes and all(m["label"] != m["predicted"] for m in mistakes)
    confidences = [m["confidence"] for m in mistakes]
    assert confidences == sorted(confidences, reverse=True) and confidences[0] > 0.5
    assert all(isinstance(m["text"], str) and m["text"] for m in mistakes)


def test_cli_runs_imdb_from_a_keras_format_npz_with_its_word_index(tmp_path, capsys):
    path = tmp_path / "imdb.npz"
    write_imdb_npz(path, n_train=300, n_test=100, word_index_path=tmp_path / "imdb_word_index.json")
    out = tmp_path / "out"
    assert main(["run", "imdb", "--data", str(path), "--out", str(out), "--quick"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["dataset"]["split"]["source"] == "npz:imdb.npz"
    assert report["dataset"]["split"]["word_index"] is True
    vocabulary = (out / "vocab.txt").read_text().splitlines()
    assert not any(token.startswith("w") and token[1:].isdigit() for token in vocabulary[2:])
    assert "Pure-Python tokenizer agrees" in capsys.readouterr().out


def test_offline_imdb_without_a_file_fails_in_one_line(monkeypatch, capsys):
    import keras

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", offline)
    assert main(["run", "imdb", "--out", "unused"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--data" in error and "digits" in error


def test_model_flag_is_refused_for_image_scenarios(capsys):
    assert main(["run", "digits", "--model", "cnn"]) == 2
    assert "--model applies to imdb" in capsys.readouterr().err


def test_unknown_text_model_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown IMDB model 'rnn'.*'transformer'"):
        run_imdb(model="rnn")


def test_text_augmentation_changes_training_batches_only(tmp_path):
    from kerasopt.text import RandomTokenDeletion, TextAugmentation

    corpus = write_aclimdb(tmp_path / "aclImdb", n_train=200, n_test=60, seed=1)
    augment = TextAugmentation([RandomTokenDeletion(0.2, seed=0)])
    report = run_imdb(
        model="bow",
        data_path=corpus,
        out_dir=tmp_path / "o",
        quick=True,
        augment=augment,
        verbose=0,
    )
    assert report["train"]["text_augmentation"]["ops"]
    assert np.isfinite(report["keras"]["accuracy"])
