"""Callbacks that watch training: NaN/Inf diagnosis, health warnings, gradient norms.

`TrainingHealth` stops `fit` with a diagnosis naming the layer when the loss or a weight
turns NaN/Inf, and warns about exploding or vanishing gradients, a diverging loss and
overfitting. `GradientNormLogger` records per-layer gradient norms to CSV / TensorBoard.

Example:

```python
import keras
import numpy as np
from kerasopt.callbacks import GradientNormLogger, TrainingHealth

x, y = np.random.rand(256, 4), np.random.rand(256, 1)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
probe = (x[:32], y[:32])
callbacks = [TrainingHealth(probe_data=probe), GradientNormLogger(probe, every_n_steps=10)]
model.fit(x, y, epochs=2, callbacks=callbacks, verbose=0)
```
"""

from kerasopt.callbacks.gradient_norm_logger import GradientNormLogger
from kerasopt.callbacks.training_health import (
    TrainingDivergedError,
    TrainingHealth,
    TrainingHealthWarning,
)

__all__ = ["GradientNormLogger", "TrainingDivergedError", "TrainingHealth", "TrainingHealthWarning"]
