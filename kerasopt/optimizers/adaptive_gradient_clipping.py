"""Adaptive gradient clipping (AGC) wrapper for any Keras 3 optimizer."""

import keras
from keras import ops

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_float
from kerasopt.optimizers.optimizer_wrapper import OptimizerWrapper


def unitwise_norm(x):
    """L2 norm per output unit: over all axes but the last, or the whole tensor if rank <= 1.

    A Dense kernel `(in, out)` gets one norm per output unit, a Conv2D kernel
    `(h, w, in, out)` one per filter; biases, BatchNorm scales and scalars get one norm.
    The result keeps the reduced axes (size 1) so it broadcasts against `x`.
    """
    axes = tuple(range(len(x.shape) - 1)) if len(x.shape) > 1 else None
    return ops.sqrt(ops.sum(ops.square(x), axis=axes, keepdims=True))


@keras.saving.register_keras_serializable(package="kerasopt")
class AdaptiveGradientClipping(OptimizerWrapper):
    """Adaptive gradient clipping (AGC): clips each unit's gradient relative to its weights.

    Brock et al., 2021, "High-Performance Large-Scale Image Recognition Without
    Normalization" (https://arxiv.org/abs/2102.06171), section 4. For every output unit
    `i` of every variable, with `G_i` its gradient and `W_i` its weights,
    `G_i <- G_i * clip_factor * max(|W_i|, eps) / |G_i|` whenever
    `|G_i| / max(|W_i|, eps) > clip_factor`; units under the bound are left untouched.
    Norms are unit-wise: over all axes but the last for kernels, over the whole tensor for
    vectors and scalars. The clipped gradients then go to the wrapped optimizer, so
    learning rate, `iterations`, its own `clipnorm`, weight decay, EMA and loss scaling
    are all the inner optimizer's (`agc.learning_rate` reads and sets the inner rate).

    The paper clips every layer except the final classifier and uses `clip_factor`
    0.01-0.16 (smaller for larger batches). Because a unit's step is bounded by
    `learning_rate * clip_factor * |W_i|`, weights that start at zero (biases) move at
    most `learning_rate * clip_factor * eps` per step until they grow. With gradient
    accumulation on the inner optimizer each micro-batch gradient is clipped separately.

    Args:
        optimizer: The inner `keras.optimizers.Optimizer` instance (or a name such as
            `"sgd"`, or a serialized optimizer dict). It must not be built yet.
        clip_factor: The bound `lambda` on `|G_i| / max(|W_i|, eps)`; must be > 0.
            Defaults to `0.01`.
        eps: Floor on the weight norm, so zero-initialised weights can still move; must
            be > 0. Defaults to `1e-3`.
        name: Name of the optimizer; `None` picks a unique one. Defaults to `None`.
        **kwargs: Only accepted as written by `get_config` (default base-optimizer
            arguments); set `clipnorm`, `weight_decay` and the like on the inner optimizer.

    Example:

    ```python
    import keras
    from kerasopt.optimizers import AdaptiveGradientClipping

    opt = AdaptiveGradientClipping(keras.optimizers.SGD(0.1, momentum=0.9), clip_factor=0.02)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    ```
    """

    _own_arguments = ("clip_factor", "eps")
    _example_optimizer = "SGD"

    def __init__(self, optimizer, clip_factor=0.01, eps=1e-3, name=None, **kwargs):
        clip_factor = check_float(
            "AdaptiveGradientClipping",
            "clip_factor",
            clip_factor,
            0,
            closed="neither",
            example=0.01,
        )
        eps = check_float("AdaptiveGradientClipping", "eps", eps, 0, closed="neither", example=1e-3)
        super().__init__(optimizer, name=name, **kwargs)
        self.clip_factor = clip_factor
        self.eps = eps

    def clip_gradient(self, grad, variable):
        """Returns `grad` with every unit whose norm exceeds the AGC bound scaled onto it."""
        if grad is None or getattr(variable, "overwrite_with_gradient", False):
            return grad  # No gradient, or a variable the optimizer overwrites (float8 scales).
        grad = ops.convert_to_tensor(grad)  # Densifies IndexedSlices (Embedding).
        weight = ops.cast(variable, grad.dtype)
        max_norm = self.clip_factor * ops.maximum(unitwise_norm(weight), self.eps)
        # The inner optimizer divides by its loss scale, so the bound is scaled up to match.
        if self.inner_optimizer.loss_scale_factor is not None:
            max_norm = max_norm * self.inner_optimizer.loss_scale_factor
        grad_norm = unitwise_norm(grad)
        # NaN norms compare False: such gradients pass through for a NaN check to catch.
        scale = ops.where(grad_norm > max_norm, ops.divide_no_nan(max_norm, grad_norm), 1.0)
        return grad * ops.cast(scale, grad.dtype)

    def apply(self, grads, trainable_variables=None):
        """Clips `grads` unit-wise, then takes one step of the inner optimizer."""
        trainable_variables = self._resolve_variables(trainable_variables)
        grads = list(grads)
        if len(grads) != len(trainable_variables):
            raise InvalidValueError(
                f"AdaptiveGradientClipping.apply() needs one gradient per variable, got "
                f"{len(grads)} gradients for {len(trainable_variables)} variables. Pass "
                "matching lists."
            )
        clipped = [
            self.clip_gradient(g, v) for g, v in zip(grads, trainable_variables, strict=True)
        ]
        self.inner_optimizer.apply(clipped, trainable_variables)

    def get_config(self):
        config = super().get_config()
        config.update({"clip_factor": self.clip_factor, "eps": self.eps})
        return config
