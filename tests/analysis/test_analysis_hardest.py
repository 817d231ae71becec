"""`hardest_examples` ordering and `plot_hardest_examples`."""

import numpy as np
import pytest

from kerasopt.analysis import hardest_examples, plot_hardest_examples

PNG = b"\x89PNG\r\n\x1a\n"

PROBABILITIES = np.array(
    [
        [0.30, 0.25, 0.25, 0.20],  # 0: right, but p_true only .30
        [0.05, 0.90, 0.03, 0.02],  # 1: wrong (true 0), p_true .05: the hardest
        [0.40, 0.45, 0.10, 0.05],  # 2: wrong (true 0), p_true .40 > sample 0's .30
        [0.01, 0.01, 0.97, 0.01],  # 3: right, easy
        [0.10, 0.60, 0.20, 0.10],  # 4: wrong (true 0), p_true .10
    ]
)
LABELS = np.array([0, 0, 0, 2, 0])


def test_order_misclassified_first_then_lowest_true_probability():
    examples = hardest_examples(PROBABILITIES, LABELS)
    assert [e["index"] for e in examples] == [1, 4, 2, 0, 3]
    # Sample 2 is a mistake, so it ranks above sample 0 despite a higher p_true.
    first = examples[0]
    assert first == {
        "index": 1,
        "true": 0,
        "predicted": 1,
        "true_probability": pytest.approx(0.05),
        "confidence": pytest.approx(0.90),
        "correct": False,
    }
    assert [e["correct"] for e in examples] == [False, False, False, True, True]


def test_ties_go_to_the_more_confident_mistake_then_the_lower_index():
    probabilities = np.array([[0.2, 0.5, 0.3], [0.2, 0.8, 0.0], [0.2, 0.8, 0.0]])
    examples = hardest_examples(probabilities, [0, 0, 0], top=3)
    assert [e["index"] for e in examples] == [1, 2, 0]


def test_top_limits_the_list():
    assert len(hardest_examples(PROBABILITIES, LABELS, top=2)) == 2
    assert len(hardest_examples(PROBABILITIES, LABELS, top=100)) == 5


def test_plot_grid_png(tmp_path):
    images = np.random.default_rng(0).uniform(0, 16, size=(5, 8, 8))
    shown = plot_hardest_examples(
        images, PROBABILITIES, LABELS, tmp_path / "h.png", top=4, class_names="abcd"
    )
    assert [e["index"] for e in shown] == [1, 4, 2, 0]
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG
    rgb = np.random.default_rng(0).integers(0, 256, size=(5, 6, 6, 3))
    plot_hardest_examples(rgb, PROBABILITIES, LABELS, tmp_path / "rgb.png", top=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "rgb.png"]


ERRORS = {
    "mismatched_images": (
        {"images": np.zeros((3, 8, 8))},
        ValueError,
        r"expected one image per row of probabilities\. Received: len\(images\)=3 and 5 rows",
    ),
    "flat_features": (
        {"images": np.zeros((5, 64))},
        ValueError,
        r"images of shape \(num_samples, height, width\).*images.shape=\(5, 64\)",
    ),
    "class_names": (
        {"class_names": ["a", "b"]},
        ValueError,
        r"Received: 2 class_names for 4 classes",
    ),
    "top": ({"top": 0}, ValueError, r"expected top to be an integer >= 1\. Received: top=0"),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_plot_errors(case, tmp_path):
    overrides, error, match = case
    kwargs = {"images": np.zeros((5, 8, 8)), "top": 4, "class_names": None, **overrides}
    with pytest.raises(error, match=match):
        plot_hardest_examples(
            kwargs.pop("images"), PROBABILITIES, LABELS, tmp_path / "h.png", **kwargs
        )
    assert not list(tmp_path.iterdir())


def test_errors_on_labels():
    with pytest.raises(ValueError, match=r"len\(y_true\)=4 but 5 samples"):
        hardest_examples(PROBABILITIES, LABELS[:4])
