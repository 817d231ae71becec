"""L∞ adversarial examples, adversarial training and robustness curves.

`epsilon` is always a fraction of the model's raw input range (`input_range`), so one
value means the same budget for digits (0..16) and MNIST (0..255). The attacks run on a
TensorFlow graph with `tf.GradientTape`. `AdversarialModel` is registered under the
`kerasopt` package: import `kerasopt.adversarial` before loading a saved one.

Example:

```python
from kerasopt.adversarial import fgsm, robustness_curve

x_adv = fgsm(model, data.x_test, data.y_test, epsilon=0.05, input_range=(0, 16))
curve = robustness_curve(model, data.x_test, data.y_test, input_range=(0, 16))
```
"""

from kerasopt.adversarial.adversarial_model import AdversarialModel
from kerasopt.adversarial.fgsm import fgsm
from kerasopt.adversarial.pgd import pgd
from kerasopt.adversarial.robustness_curve import DEFAULT_EPSILONS, robustness_curve

__all__ = ["DEFAULT_EPSILONS", "AdversarialModel", "fgsm", "pgd", "robustness_curve"]
