"""Tiny search specs the tuning tests run (digits, a few seconds per trial)."""

import textwrap
from pathlib import Path

DENSE_RANDOM = """
[search]
data = "digits"
model = "dense"
tuner = "random"
objective = "val_accuracy"
max_trials = {max_trials}
epochs = 2
seed = 0
[train]
augment = {{}}
health_checks = false
[space]
units = [8, 16, 32, 64]
dropout = [0.0, 0.2]
"""


def write_spec(folder: Path, text: str, name: str = "spec.toml", **values) -> Path:
    path = Path(folder) / name
    text = textwrap.dedent(text)
    path.write_text(text.format(**values) if values else text)
    return path
