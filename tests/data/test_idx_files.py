"""The idx reader on small generated files in the format MNIST is distributed in."""

import gzip

import numpy as np
import pytest
from mnist_like_files import idx_bytes, make_idx_folder, write_idx

from kerasopt.core.errors import KerasoptError, MissingFileError
from kerasopt.data import load_dataset
from kerasopt.data.idx_files import load_idx_folder, read_idx
from kerasopt.data.loaders import load_dataset_or_file
from kerasopt.data.validation import InvalidDataError


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_round_trips_every_type(tmp_path, gz, dtype):
    array = (np.arange(2 * 3 * 4).reshape(2, 3, 4) - 5).astype(dtype)
    path = write_idx(tmp_path / ("a.gz" if gz else "a"), array, dtype, gz=gz)
    read = read_idx(path)
    np.testing.assert_array_equal(read, array)
    assert read.shape == (2, 3, 4) and read.dtype == np.dtype(dtype).newbyteorder("=")


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_load_dataset_reads_an_idx_folder_with_class_names(tmp_path, gz):
    arrays = make_idx_folder(tmp_path, n_train=200, n_test=50, gz=gz)
    data = load_dataset("fashion_mnist", data_path=tmp_path)
    assert data.input_shape == (28, 28) and data.x_train.dtype == np.uint8
    assert len(data.y_train) + len(data.y_val) == 200 and len(data.y_test) == 50
    np.testing.assert_array_equal(data.x_test, arrays["t10k-images-idx3-ubyte"])
    assert data.split["source"] == f"idx:{tmp_path}"
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert data.describe()["class_names"][1] == "Trouser"
    assert load_dataset("mnist", data_path=tmp_path).class_names is None


def test_any_mnist_format_folder_loads_as_a_path_and_dotted_names_work(tmp_path):
    arrays = make_idx_folder(tmp_path / "letters", n_train=200, n_test=20, shape=(12, 12))
    for path in (tmp_path / "letters").iterdir():
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    data = load_dataset_or_file(str(tmp_path / "letters"))
    assert data.name == "letters" and data.input_shape == (12, 12) and data.num_classes == 10
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])


def _one_line(error):
    message = str(error.value)
    assert "\n" not in message and isinstance(error.value, KerasoptError)
    return message


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_truncated_and_padded_files_are_refused_naming_the_file(tmp_path, gz):
    make_idx_folder(tmp_path, gz=gz)
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    content = idx_bytes(np.zeros((120, 28, 28)))
    for broken, what in ((content[:-10], "truncated"), (content + b"\0", "trailing bytes")):
        (tmp_path / name).write_bytes(gzip.compress(broken) if gz else broken)
        with pytest.raises(InvalidDataError) as error:
            load_dataset("fashion_mnist", data_path=tmp_path)
        message = _one_line(error)
        assert message.startswith(f"{name}: ") and what in message and "94,080" in message


def test_a_cut_gzip_stream_is_refused(tmp_path):
    make_idx_folder(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(InvalidDataError, match=r"^t10k-labels-idx1-ubyte.gz: .*gzip"):
        load_idx_folder(tmp_path)


def test_wrong_magic_and_wrong_dimensions_are_refused(tmp_path):
    make_idx_folder(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"PK\x03\x04not idx")
    with pytest.raises(InvalidDataError, match=r"^train-labels-idx1-ubyte: not an idx file.*50 4b"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((120, 28, 28)))
    with pytest.raises(InvalidDataError, match=r"expected 1 dimensions of labels.*\(120, 28, 28\)"):
        load_idx_folder(tmp_path)


def test_images_and_labels_that_do_not_belong_together_are_refused(tmp_path):
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(39))
    with pytest.raises(InvalidDataError) as error:
        load_idx_folder(tmp_path)
    assert "t10k-images-idx3-ubyte.gz holds 40 images but t10k-labels-idx1-ubyte.gz 39" in (
        _one_line(error)
    )
    make_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((40, 32, 32)))
    with pytest.raises(InvalidDataError, match=r"\(28, 28\) images, .*\(32, 32\)"):
        load_idx_folder(tmp_path)


def test_a_missing_file_names_what_the_folder_holds(tmp_path):
    make_idx_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MissingFileError) as error:
        load_idx_folder(tmp_path)
    message = _one_line(error)
    assert "no t10k-images-idx3-ubyte[.gz]" in message and "train-images-idx3-ubyte.gz" in message


def test_cli_run_on_a_truncated_file_fails_in_one_line_and_writes_nothing(tmp_path, capsys):
    from kerasopt.cli.main import main

    make_idx_folder(tmp_path / "data")
    labels = tmp_path / "data" / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(120))[:-3]))
    out = tmp_path / "out"
    assert main(["run", "fashion_mnist", "--data", str(tmp_path / "data"), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "train-labels-idx1-ubyte.gz: truncated" in error and "117" in error
    assert not out.exists()


@pytest.mark.slow
def test_fashion_run_from_idx_files_names_the_classes_in_the_report(tmp_path):
    import json

    from kerasopt.models import load_model_safely
    from kerasopt.pipeline import run_scenario

    arrays = make_idx_folder(tmp_path / "data", n_train=300, n_test=60)
    report = run_scenario(
        "fashion_mnist",
        data_path=tmp_path / "data",
        out_dir=tmp_path / "out",
        quick=True,
    )
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    # The residual model's default: mirror averaging is in model.keras and in every
    # exported file, phone bundle included.
    assert saved["train"]["mirror_average"] is True
    model = load_model_safely(tmp_path / "out" / "model.keras")
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "MirrorAverage"]
    x = arrays["t10k-images-idx3-ubyte"][:8]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model.predict(x[:, :, ::-1], verbose=0), atol=1e-5
    )
    assert saved["tflite"]["float32"]["agreement"] == 1.0
    phone = report.sections["phone"].content  # the bundle converts the averaged model
    assert phone["bytes"] > 0 and 0.0 <= phone["litert"]["accuracy"] <= 1.0
    if phone["mediapipe"] is not None:
        assert phone["mediapipe"]["accuracy"] == pytest.approx(
            phone["litert"]["accuracy"], abs=0.02
        )
    assert saved["dataset"]["split"]["source"] == f"idx:{tmp_path / 'data'}"
    assert saved["keras"]["error_analysis"]["class_names"][9] == "Ankle boot"
    assert saved["tflite"]["int8"]["error_analysis"]["class_names"][0] == "T-shirt/top"
    assert "| Ankle boot |" in (tmp_path / "out" / "report.md").read_text()
    assert report.tflite["int8"].metrics.full_integer
