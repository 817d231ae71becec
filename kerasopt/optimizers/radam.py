"""Rectified Adam (RAdam) for Keras 3."""

import keras
from keras import ops

from kerasopt.core.validation import check_float
from kerasopt.optimizers._common import one_minus_power


@keras.saving.register_keras_serializable(package="kerasopt")
class RAdam(keras.optimizers.Optimizer):
    """Rectified Adam: Adam whose adaptive step is switched on only once it is reliable.

    Liu et al., 2019, "On the Variance of the Adaptive Learning Rate and Beyond"
    (https://arxiv.org/abs/1908.03265). Early in training the second-moment estimate is
    built from a handful of gradients and its variance is unbounded, which is why Adam
    needs warmup. RAdam tracks the length of the approximated simple moving average,
    `rho_t = rho_inf - 2 t beta_2^t / (1 - beta_2^t)` with `rho_inf = 2 / (1 - beta_2) - 1`.
    While `rho_t < sma_threshold` it takes an un-adapted momentum step `lr * m_hat_t`;
    afterwards it takes Adam's step multiplied by the rectification term
    `r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))`.
    As in TensorFlow Addons, `epsilon` is added to the bias-corrected `sqrt(v_hat_t)`.
    Weight decay, when set, is the base optimizer's decoupled decay
    (`w -= lr * weight_decay * w` before each step), as in AdamW.

    Args:
        learning_rate: A float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable returning the learning rate. Defaults to `0.001`.
        beta_1: Decay rate of the first-moment estimate. Defaults to `0.9`.
        beta_2: Decay rate of the second-moment estimate. Defaults to `0.999`.
        epsilon: Small constant added to `sqrt(v_hat_t)` for numerical stability.
            Defaults to `1e-7`.
        sma_threshold: Rectified steps are taken once `rho_t >= sma_threshold`. The
            reference code and TensorFlow Addons use 5 (the paper's bound is 4, where
            `r_t` becomes defined). Must be > 4. Defaults to `5.0`.
        weight_decay: Decoupled weight decay coefficient, or `None` for none.
            Defaults to `None`.
        name: Name of the optimizer; `None` picks a unique one. Defaults to `None`.
        **kwargs: Other `keras.optimizers.Optimizer` arguments such as `clipnorm`,
            `global_clipnorm`, `use_ema` or `gradient_accumulation_steps`.

    Example:

    ```python
    import keras
    from kerasopt.optimizers import RAdam

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="mse")
    ```
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        sma_threshold=5.0,
        weight_decay=None,
        name=None,
        **kwargs,
    ):
        beta_1 = check_float("RAdam", "beta_1", beta_1, 0, 1, closed="left", example=0.9)
        beta_2 = check_float("RAdam", "beta_2", beta_2, 0, 1, closed="left", example=0.999)
        epsilon = check_float("RAdam", "epsilon", epsilon, 0, example=1e-7)
        # The rectification term is only defined for rho_t > 4.
        sma_threshold = check_float(
            "RAdam", "sma_threshold", sma_threshold, 4, closed="neither", example=5.0
        )
        if weight_decay is not None:
            check_float("RAdam", "weight_decay", weight_decay, 0, example=0.01)
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.sma_threshold = sma_threshold

    def build(self, var_list):
        """Creates the first- and second-moment slots for every variable in `var_list`."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        """Applies one RAdam step to `variable`."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        bias_1 = one_minus_power(self.beta_1, step)
        bias_2 = one_minus_power(self.beta_2, step)
        rho_inf = 2.0 / (1.0 - self.beta_2) - 1.0
        rho_t = rho_inf - 2.0 * step * (1.0 - bias_2) / bias_2

        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1.0 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1.0 - self.beta_2))

        m_hat = ops.divide(m, bias_1)
        v_hat_sqrt = ops.sqrt(ops.divide(v, bias_2))
        # Clamp at 0: the unselected branch of `where` must not produce NaN under XLA.
        r_squared = (
            (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        )
        r_t = ops.sqrt(ops.maximum(r_squared, 0.0))
        rectified = ops.divide(ops.multiply(r_t, m_hat), ops.add(v_hat_sqrt, self.epsilon))
        update = ops.where(ops.greater_equal(rho_t, self.sma_threshold), rectified, m_hat)
        self.assign_sub(variable, ops.multiply(lr, update))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "sma_threshold": self.sma_threshold,
            }
        )
        return config
