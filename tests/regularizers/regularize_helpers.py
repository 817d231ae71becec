"""Helpers shared by the regularizer tests.

Not a conftest.py: several test modules in this repository run `from conftest import ...`
for the root tests/conftest.py, which a second conftest module would shadow.
"""

import keras


def save_and_load(model, folder):
    """Saves a model to a `.keras` file in `folder`, loads it back with `safe_mode=True`."""
    path = folder / "model.keras"
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)
