import numpy as np

from kerasopt.analysis import (
    confusion_matrix,
    most_confused_pairs,
    plot_confusion_matrix,
    plot_training_curves,
)


def test_confusion_matrix_counts():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 0], num_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [2, 0, 1]]
    assert matrix.sum() == 6


def test_most_confused_pairs_order_and_stop_at_zero():
    matrix = np.array([[9, 1, 0], [0, 8, 0], [3, 0, 7]])
    assert most_confused_pairs(matrix, top=5) == [
        {"true": 2, "predicted": 0, "count": 3},
        {"true": 0, "predicted": 1, "count": 1},
    ]


def test_plots_are_png_files(tmp_path):
    plot_training_curves(
        {"loss": [1, 0.5], "val_loss": [1.2, 0.6], "accuracy": [0.5, 0.8]}, tmp_path / "c.png"
    )
    plot_confusion_matrix(np.eye(3, dtype=int) * 4, tmp_path / "m.png")
    for name in ("c.png", "m.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "m.png"]  # no temp files left


def test_confusion_matrix_axes_carry_the_class_names(tmp_path, monkeypatch):
    import matplotlib.axes

    seen = []
    original = matplotlib.axes.Axes.set_xticklabels

    def record(self, labels, *args, **kwargs):
        seen.append([str(label) for label in labels])
        return original(self, labels, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_xticklabels", record)
    names = ["T-shirt/top", "Trouser", "Pullover"]
    plot_confusion_matrix(np.eye(3, dtype=int), tmp_path / "m.png", class_names=names)
    assert seen == [names]
