"""`transfer_bench`: every bad argument is refused before the source model trains."""

import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.strategies import transfer_bench


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_classes": [4, 5, 6]}, r"disjoint\. Received: both hold \[4\]"),
        ({"target_classes": [5, 10]}, r"Received: classes=\[5, 10\]\. Pass ids from 0 to 9"),
        ({"per_class": (10, 500)}, r"has \d+\. Pass per_class <= \d+"),
        ({"unfreeze": 9}, r"expected unfreeze in \[0, 4\]\. Received: unfreeze=9"),
    ],
    ids=["overlapping_classes", "unknown_class", "too_few_per_class", "unfreeze_too_deep"],
)
def test_bad_arguments_raise_before_training(digits, tmp_path, kwargs, match):
    out = tmp_path / "out"
    with pytest.raises(InvalidValueError, match=match):
        transfer_bench(digits, widths=(4, 8), out_dir=out, **kwargs)
    assert not out.exists()
