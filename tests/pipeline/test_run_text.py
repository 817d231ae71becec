"""`run_scenario("imdb")`: tokenizer files, text model, TFLite on LiteRT, report sections."""

import json

import numpy as np
import pytest

from kerasopt.cli.main import main
from kerasopt.core.errors import KerasoptError
from kerasopt.pipeline import RUN_REPORT_KEYS, run_scenario
from kerasopt.text.review_corpus import write_aclimdb, write_imdb_npz


@pytest.mark.slow
def test_report_has_the_digits_shape_and_every_artifact(imdb_run):
    out, report = imdb_run
    for name in ("model.keras", "model_int8.tflite", "vocab.txt", "tokenizer.json"):
        assert (out / name).is_file(), name
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["scenario"] == "imdb" and set(on_disk) == set(RUN_REPORT_KEYS)
    assert on_disk["model"] == {"name": "bow", "builder": "build_text_model", "family": "bow"}
    assert on_disk["robustness"] is None
    text = (out / "report.md").read_text()
    assert "Most confident mistakes" in text and "Pure-Python tokenizer" in text
    lite = on_disk["tflite"]["int8"]
    assert lite["full_integer"] and lite["notes"] == {"reason": None, "blocking_layers": []}
    for key in ("accuracy", "agreement", "bytes", "gzip_bytes", "latency_us", "error_analysis"):
        assert key in lite
    assert on_disk["dataset"]["sizes"] == {"train": 450, "val": 50, "test": 200}
    assert on_disk["dataset"]["ngrams"] is None and on_disk["dataset"]["vocab_size"] > 2
    assert report.keras.accuracy > 0.7  # learned the synthetic sentiment


def test_litert_int8_matches_keras_and_the_python_tokenizer_matches_the_vectorizer(imdb_run):
    _, report = imdb_run
    lite = report.tflite["int8"].metrics
    assert lite.agreement >= 0.98
    assert abs(lite.accuracy - report.keras.accuracy) <= 0.01
    tokenizer = report.sections["tokenizer"].content
    assert tokenizer["agreement"] == 1.0 and tokenizer["reviews"] == 200
    assert tokenizer["sequence_length"] == 200 and tokenizer["max_tokens"] == 20000


def test_the_phone_bundle_reads_raw_reviews_through_mediapipe(imdb_run):
    out, report = imdb_run
    files = {p.name for p in (out / "phone").iterdir()}
    assert files == {"model.tflite", "labels.txt", "vocab.txt"}
    assert (out / "phone" / "labels.txt").read_text() == "negative\npositive\n"
    phone = report.sections["phone"].content
    assert phone["kind"] == "text" and phone["mode"] == "int8"
    assert phone["bytes"] == (out / "phone" / "model.tflite").stat().st_size
    assert phone["int8_bytes"] == report.tflite["int8"].metrics.bytes
    assert phone["vocabulary"]["bytes"] == (out / "phone" / "vocab.txt").stat().st_size
    assert phone["mediapipe"]["accuracy"] == pytest.approx(phone["litert"]["accuracy"], abs=0.01)
    assert list(phone["class_names"]) == ["negative", "positive"]
    assert phone["tokenizer_agreement"]["reviews"] > 0.9
    assert "Phone bundle" in (out / "report.md").read_text()


def test_confident_mistakes_are_real_mistakes_in_confidence_order(imdb_run):
    _, report = imdb_run
    mistakes = report.to_dict()["sections"]["confident_mistakes"]
    assert mistakes and all(m["label"] != m["predicted"] for m in mistakes)
    confidences = [m["confidence"] for m in mistakes]
    assert confidences == sorted(confidences, reverse=True) and confidences[0] > 0.5
    assert all(isinstance(m["text"], str) and m["text"] for m in mistakes)


def test_image_and_text_reports_have_the_same_top_level_keys(digits_run, imdb_run):
    digits = json.loads((digits_run[0] / "report.json").read_text())
    imdb = json.loads((imdb_run[0] / "report.json").read_text())
    assert set(digits) - {"compression"} == set(imdb) == set(RUN_REPORT_KEYS)
    assert set(digits["keras"]) == set(imdb["keras"])
    assert set(digits["tflite"]["int8"]) == set(imdb["tflite"]["int8"])


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


def test_offline_imdb_without_a_file_fails_in_one_line(monkeypatch, capsys, tmp_path):
    import keras

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", offline)
    assert main(["run", "imdb", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--data" in error and "digits" in error


def test_a_model_the_scenario_lacks_is_refused_with_the_choices(capsys):
    assert main(["run", "digits", "--model", "bow"]) == 2
    assert "Unknown 'digits' model 'bow'. Expected one of: cnn." in capsys.readouterr().err


def test_unknown_text_model_names_the_choices():
    with pytest.raises(KerasoptError, match=r"Unknown 'imdb' model 'rnn'.*transformer"):
        run_scenario("imdb", model="rnn")


def test_compressing_a_text_scenario_is_refused_with_the_choices(tmp_path):
    match = r"Scenario 'imdb' cannot be compressed\. Received: compress=.*'cifar10', 'digits'"
    with pytest.raises(KerasoptError, match=match):
        run_scenario("imdb", compress={"prune": 0.5}, out_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # refused before any work


def test_tfidf_reads_bigrams_at_twice_the_length(tmp_path):
    corpus = write_aclimdb(tmp_path / "aclImdb", n_train=120, n_test=40, seed=2)
    report = run_scenario(
        "imdb", model="tfidf", data_path=corpus, out_dir=tmp_path / "o", epochs=1, verbose=0
    )
    assert report.dataset["ngrams"] == 2 and report.dataset["input_shape"] == [400]
    assert report.sections["tokenizer"].content["ngrams"] == 2
    # MediaPipe's regex tokenizer gives unigram ids; the bundle's graph appends the bigram ids.
    phone = report.sections["phone"].content
    assert "skipped" not in phone and phone["mode"] == "int8"
    assert (tmp_path / "o" / "phone" / "model.tflite").stat().st_size == phone["bytes"]
    # 120 training reviews list few surface forms; a word missed costs its bigrams too.
    agreement = phone["tokenizer_agreement"]
    assert agreement["reviews"] > 0.8 and agreement["tokens"] > 0.99
    assert phone["mediapipe"]["accuracy"] == pytest.approx(phone["litert"]["accuracy"], abs=0.01)
    assert "bigrams to the unigram ids" in (tmp_path / "o" / "report.md").read_text()


def test_text_augmentation_changes_training_batches_only(tmp_path):
    from kerasopt.text import RandomTokenDeletion, TextAugmentation

    corpus = write_aclimdb(tmp_path / "aclImdb", n_train=200, n_test=60, seed=1)
    augment = TextAugmentation([RandomTokenDeletion(0.2, seed=0)])
    report = run_scenario(
        "imdb",
        data_path=corpus,
        out_dir=tmp_path / "o",
        quick=True,
        augment=augment,
        verbose=0,
    )
    assert report.train["batch_augment"]["ops"]
    assert np.isfinite(report.keras.accuracy)
