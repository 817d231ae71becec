import numpy as np
import pytest

from kerasopt.data import InvalidDataError, check_arrays

X = np.zeros((4, 8, 8), dtype="float32")
Y = np.array([0, 1, 2, 3])


def test_valid_arrays_pass():
    check_arrays(X, Y, num_classes=10, input_shape=(8, 8))


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (X[:0], Y[:0], {}, r"x_train is empty"),
        (X, np.eye(4), {}, r"y_train must be a 1-D array.*np.argmax"),
        (X, Y[:3], {}, r"different lengths: 4 samples and 3 labels"),
        (
            np.where(np.arange(256).reshape(4, 8, 8) == 9, np.inf, 0.0),
            Y,
            {},
            r"x_train contains 1 NaN/Inf.*\(0, 1, 1\)",
        ),
        (X, np.array([0, 1, 2, 10]), {}, r"labels outside the class range \[0, 9\]: min=0, max=10"),
        (X, np.array([0, -1, 2, 3]), {}, r"min=-1"),
        (X, np.array([0.5, 1, 2, 3]), {}, r"integer class labels"),
        (X, Y, {"input_shape": (28, 28)}, r"shape \(8, 8\) but the model expects \(28, 28\)"),
    ],
    ids=[
        "empty",
        "one-hot",
        "length",
        "inf",
        "label-high",
        "label-negative",
        "label-float",
        "shape",
    ],
)
def test_bad_arrays_are_named(x, y, kwargs, match):
    with pytest.raises(InvalidDataError, match=match):
        check_arrays(x, y, num_classes=10, **kwargs)


def test_split_name_appears_in_message():
    with pytest.raises(InvalidDataError, match="x_test"):
        check_arrays(X[:0], Y[:0], num_classes=10, name="test")
