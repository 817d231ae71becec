"""Regularization done right in Keras 3: penalties, constraints, label smoothing, decay.

* `apply_regularization` adds L1/L2/orthogonal penalties and max-norm/unit-norm/non-neg
  constraints to the layers of an existing model by rebuilding it (setting
  `layer.kernel_regularizer` on a built model does nothing, and `compile()` takes no
  regularizer). `describe_regularization` shows what every layer carries.
* `SmoothedSparseCategoricalCrossentropy` is label smoothing for integer labels.
* Weight decay: decoupled weight decay (Loshchilov & Hutter, 2019) is Keras'
  `keras.optimizers.AdamW(weight_decay=...)` (every Keras optimizer takes
  `weight_decay`); it is not the same as an L2 penalty under Adam, where the penalty's
  gradient is rescaled per weight. Use one or the other, not both. `decay_exempt` keeps
  biases and BatchNorm/LayerNorm parameters out of the decay, as standard practice does.

Everything here is a Keras object or registered under the `kerasopt` package, so models
save to and load from `.keras` files with `safe_mode=True` (import `kerasopt.regularizers`
before `keras.saving.load_model` when the model uses the loss).

Example:

```python
import keras
from kerasopt.regularizers import (
    SmoothedSparseCategoricalCrossentropy,
    apply_regularization,
    decay_exempt,
)

model = keras.Sequential([
    keras.Input((16,)),
    keras.layers.Dense(32, activation="relu", name="hidden"),
    keras.layers.LayerNormalization(),
    keras.layers.Dense(3, activation="softmax", name="head"),
])
model = apply_regularization(model, kernel_constraint="max_norm(3)", layer_names="hidden")
optimizer = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-2)
decay_exempt(optimizer, model)  # biases and LayerNorm gamma/beta are not decayed
model.compile(optimizer=optimizer, loss=SmoothedSparseCategoricalCrossentropy(0.1))
```
"""

from kerasopt.regularizers.apply_regularization import apply_regularization
from kerasopt.regularizers.decay_exempt import decay_exempt
from kerasopt.regularizers.describe_regularization import describe_regularization
from kerasopt.regularizers.smoothed_sparse_categorical_crossentropy import (
    SmoothedSparseCategoricalCrossentropy,
)
from kerasopt.regularizers.specs import parse_constraint, parse_regularizer

__all__ = [
    "SmoothedSparseCategoricalCrossentropy",
    "apply_regularization",
    "decay_exempt",
    "describe_regularization",
    "parse_constraint",
    "parse_regularizer",
]
