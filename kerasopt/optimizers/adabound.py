"""AdaBound for Keras 3."""

import keras
from keras import ops

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_float
from kerasopt.optimizers._common import one_minus_power


@keras.saving.register_keras_serializable(package="kerasopt")
class AdaBound(keras.optimizers.Optimizer):
    """AdaBound: Adam whose per-parameter step size is clipped into bounds that converge.

    Luo et al., 2019, "Adaptive Gradient Methods with Dynamic Bound of Learning Rate"
    (https://arxiv.org/abs/1902.09843). The element-wise Adam step size
    `lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) / (sqrt(v_t) + epsilon)` is clipped into
    `[final_lr * (1 - 1 / (gamma t + 1)), final_lr * (1 + 1 / (gamma t))]` and then
    multiplied by `m_t`, so training starts like Adam and ends like SGD with learning rate
    `final_lr`. As in the authors' reference implementation, `final_lr` is scaled by
    `lr / base_lr`, so a learning-rate schedule (or `ReduceLROnPlateau`) also lowers the
    bounds. Weight decay, when set, is the base optimizer's decoupled decay.

    Args:
        learning_rate: A float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable returning the learning rate. Defaults to `0.001`.
        final_lr: The SGD learning rate the bounds converge to (at `lr == base_lr`).
            Defaults to `0.1`.
        gamma: Convergence speed of the bounds. Defaults to `1e-3`.
        beta_1: Decay rate of the first-moment estimate. Defaults to `0.9`.
        beta_2: Decay rate of the second-moment estimate. Defaults to `0.999`.
        epsilon: Small constant added to `sqrt(v_t)`. Defaults to `1e-7`.
        amsbound: Whether to use the AMSGrad maximum of past `v_t` (AMSBound).
            Defaults to `False`.
        base_lr: The learning rate `final_lr` is quoted for. `None` takes the initial
            learning rate (`learning_rate` itself, or a schedule's value at step 0); it is
            required when `learning_rate` is a plain callable. Defaults to `None`.
        name: Name of the optimizer; `None` picks a unique one. Defaults to `None`.
        **kwargs: Other `keras.optimizers.Optimizer` arguments such as `weight_decay`,
            `clipnorm`, `use_ema` or `gradient_accumulation_steps`.

    Example:

    ```python
    import keras
    from kerasopt.optimizers import AdaBound

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=AdaBound(learning_rate=1e-3, final_lr=0.1), loss="mse")
    ```
    """

    def __init__(
        self,
        learning_rate=0.001,
        final_lr=0.1,
        gamma=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsbound=False,
        base_lr=None,
        name=None,
        **kwargs,
    ):
        final_lr = check_float("AdaBound", "final_lr", final_lr, 0, closed="neither", example=0.1)
        gamma = check_float("AdaBound", "gamma", gamma, 0, closed="neither", example=1e-3)
        beta_1 = check_float("AdaBound", "beta_1", beta_1, 0, 1, closed="left", example=0.9)
        beta_2 = check_float("AdaBound", "beta_2", beta_2, 0, 1, closed="left", example=0.999)
        epsilon = check_float("AdaBound", "epsilon", epsilon, 0, example=1e-7)
        if base_lr is not None:
            base_lr = check_float("AdaBound", "base_lr", base_lr, 0, closed="neither", example=1e-3)
        elif isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            # Resolved in `update_step` as the schedule's value at step 0, which must not
            # be 0: a warmup would divide final_lr by zero and turn every weight NaN.
            first = float(keras.ops.convert_to_numpy(learning_rate(0)))
            if not first > 0:
                raise InvalidValueError(
                    f"AdaBound scales final_lr by lr / base_lr, and {learning_rate!r} starts "
                    f"at lr={first} (a warmup?). Pass base_lr=<the peak learning rate>, e.g. "
                    "AdaBound(schedule, base_lr=1e-3)."
                )
        elif callable(learning_rate):
            raise InvalidValueError(
                f"AdaBound cannot tell the initial learning rate of {learning_rate=}. Pass "
                "base_lr=<initial learning rate> so final_lr can be scaled by lr / base_lr."
            )
        else:
            base_lr = check_float(
                "AdaBound", "learning_rate", learning_rate, 0, closed="neither", example=1e-3
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.final_lr = final_lr
        self.gamma = gamma
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsbound = bool(amsbound)
        self.base_lr = base_lr

    def build(self, var_list):
        """Creates the moment slots (and AMSBound's running maximum) for `var_list`."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        if self.amsbound:
            self._velocity_maxes = self.add_optimizer_variables(var_list, "velocity_max")

    def update_step(self, gradient, variable, learning_rate):
        """Applies one AdaBound step to `variable`."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)

        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1.0 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1.0 - self.beta_2))
        if self.amsbound:
            v_max = self._velocity_maxes[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max

        step_size = lr * ops.sqrt(one_minus_power(self.beta_2, step))
        step_size = step_size / one_minus_power(self.beta_1, step)
        if self.base_lr is None:
            base_lr = ops.cast(self._learning_rate(0), dtype)
        else:
            base_lr = self.base_lr
        final_lr = self.final_lr * lr / base_lr
        lower = final_lr * (1.0 - 1.0 / (self.gamma * step + 1.0))
        upper = final_lr * (1.0 + 1.0 / (self.gamma * step))
        eta = ops.divide(step_size, ops.add(ops.sqrt(v), self.epsilon))
        eta = ops.minimum(ops.maximum(eta, lower), upper)
        self.assign_sub(variable, ops.multiply(eta, m))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "final_lr": self.final_lr,
                "gamma": self.gamma,
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "amsbound": self.amsbound,
                "base_lr": self.base_lr,
            }
        )
        return config
