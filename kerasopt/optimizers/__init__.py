"""Optimizers Keras 3 lacks: RAdam, AdaBound, Lookahead, plus the SWA callback.

AdaptiveGradientClipping wraps any optimizer with the unit-wise clipping of NFNets.

All are registered under the `kerasopt` package, so models compiled with them save to and
load from `.keras` files (import `kerasopt.optimizers` before `keras.saving.load_model`).

Example:

```python
import keras
from kerasopt.optimizers import Lookahead, RAdam

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer=Lookahead(RAdam(1e-3)), loss="mse")
```
"""

from kerasopt.optimizers.adabound import AdaBound
from kerasopt.optimizers.adaptive_gradient_clipping import AdaptiveGradientClipping
from kerasopt.optimizers.lookahead import Lookahead
from kerasopt.optimizers.radam import RAdam
from kerasopt.optimizers.swa import SWA

__all__ = ["AdaBound", "Lookahead", "RAdam", "SWA"]
__all__ += ["AdaptiveGradientClipping"]
