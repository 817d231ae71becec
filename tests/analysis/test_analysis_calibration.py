"""`calibration` (ECE, MCE, bins), `plot_reliability_diagram`, and probability checks."""

import numpy as np
import pytest

from kerasopt.analysis import calibration, plot_reliability_diagram

PNG = b"\x89PNG\r\n\x1a\n"

# Five samples, three classes, five bins (0, .2], (.2, .4], (.4, .6], (.6, .8], (.8, 1]:
#   (.8, 1]:  conf .95 right, .85 wrong -> conf .90, acc .5, gap .40
#   (.6, .8]: conf .70 right           -> conf .70, acc 1., gap .30
#   (.4, .6]: conf .50 wrong, .45 right -> conf .475, acc .5, gap .025
#   ECE = (2 * .40 + 1 * .30 + 2 * .025) / 5 = .23; MCE = .40
HAND_PROBABILITIES = np.array(
    [
        [0.95, 0.03, 0.02],
        [0.85, 0.10, 0.05],
        [0.70, 0.20, 0.10],
        [0.50, 0.30, 0.20],
        [0.45, 0.35, 0.20],
    ]
)
HAND_LABELS = np.array([0, 1, 0, 1, 0])


def test_ece_hand_computed():
    result = calibration(HAND_PROBABILITIES, HAND_LABELS, bins=5)
    assert result["ece"] == pytest.approx(0.23)
    assert result["mce"] == pytest.approx(0.40)
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["mean_confidence"] == pytest.approx(0.69)
    table = result["bins"]
    assert [row["count"] for row in table] == [0, 0, 2, 1, 2]
    assert table[0]["confidence"] is None and table[0]["accuracy"] is None
    assert table[4]["confidence"] == pytest.approx(0.90) and table[4]["accuracy"] == 0.5
    assert table[2]["confidence"] == pytest.approx(0.475)
    assert (table[2]["lower"], table[2]["upper"]) == pytest.approx((0.4, 0.6))


def _calibrated(confidences, per_bin=20, num_classes=10, seed=0):
    """Rows whose top-1 probability is c and exactly a share c of them are right."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for c in confidences:
        for k in range(per_bin):
            predicted = int(rng.integers(num_classes))
            row = np.full(num_classes, (1 - c) / (num_classes - 1))
            row[predicted] = c
            right = k < round(c * per_bin)
            rows.append(row)
            labels.append(predicted if right else (predicted + 1) % num_classes)
    return np.array(rows), np.array(labels)


def test_perfectly_calibrated_gives_zero():
    probabilities, labels = _calibrated([0.25, 0.45, 0.65, 0.85, 1.0])
    result = calibration(probabilities, labels)
    assert result["ece"] == pytest.approx(0.0, abs=1e-12)
    assert result["mce"] == pytest.approx(0.0, abs=1e-12)


def test_overconfident_model_has_the_gap_as_ece():
    # Always 0.9 sure of class 0, right half the time: ECE = MCE = 0.4 in any binning.
    probabilities = np.full((40, 10), 0.1 / 9)
    probabilities[:, 0] = 0.9
    labels = np.arange(40) % 2
    for bins in (1, 10, 15):
        result = calibration(probabilities, labels, bins=bins)
        assert result["ece"] == pytest.approx(0.4) and result["mce"] == pytest.approx(0.4)


def test_bin_edges_are_closed_on_the_right():
    # 0.5 belongs to (0.4, 0.5], not (0.5, 0.6].
    probabilities = np.array([[0.5, 0.5], [0.6, 0.4]])
    table = calibration(probabilities, [0, 0], bins=10)["bins"]
    assert table[4]["count"] == 1 and table[5]["count"] == 1
    assert sum(row["count"] for row in table) == 2


def test_reliability_diagram_png(tmp_path):
    result = calibration(HAND_PROBABILITIES, HAND_LABELS, bins=5)
    plot_reliability_diagram(result, tmp_path / "r.png", title="hand")
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG
    assert [p.name for p in tmp_path.iterdir()] == ["r.png"]  # no temporary file left


def test_reliability_diagram_needs_calibration_result(tmp_path):
    with pytest.raises(TypeError, match=r"dict returned by calibration.*Received: \['ece'\]"):
        plot_reliability_diagram({"ece": 0.1}, tmp_path / "r.png")


ERRORS = {
    "one_dimensional": (
        (np.array([0.2, 0.8]), [1]),
        ValueError,
        r"shape \(num_samples, num_classes\).*Received: probabilities.shape=\(2,\).*"
        r"probabilities\[None, :\]",
    ),
    "nan": (
        (np.array([[0.5, 0.5], [np.nan, 0.5]]), [0, 1]),
        ValueError,
        r"finite probabilities. Received: 1 NaN or infinite values.*row 1",
    ),
    "logits": (
        (np.array([[2.0, -1.0], [0.1, 0.3]]), [0, 1]),
        ValueError,
        r"in \[0, 1\]. Received: values in \[-1, 2\].*keras.ops.softmax",
    ),
    "mismatched_lengths": (
        (np.array([[0.5, 0.5]] * 3), [0, 1]),
        ValueError,
        r"len\(y_true\)=2 but 3 samples",
    ),
    "label_out_of_range": (
        (np.array([[0.5, 0.5]]), [2]),
        ValueError,
        r"y_true in \[0, 2\) for 2 classes",
    ),
    "strings": ((np.array([["a", "b"]]), [0]), TypeError, r"probabilities.dtype=<U1"),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_errors(case):
    args, error, match = case
    with pytest.raises(error, match=match):
        calibration(*args)


def test_bad_bins():
    with pytest.raises(
        ValueError, match=r"calibration: expected bins to be an integer >= 1\. Received: bins=0"
    ):
        calibration(HAND_PROBABILITIES, HAND_LABELS, bins=0)
