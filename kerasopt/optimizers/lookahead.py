"""Lookahead wrapper for any Keras 3 optimizer."""

import keras
from keras import ops

from kerasopt.core.validation import check_float, check_int
from kerasopt.optimizers.optimizer_wrapper import OptimizerWrapper


@keras.saving.register_keras_serializable(package="kerasopt")
class Lookahead(OptimizerWrapper):
    """Lookahead: k fast steps with an inner optimizer, then one step of the slow weights.

    Zhang et al., 2019, "Lookahead Optimizer: k steps forward, 1 step back"
    (https://arxiv.org/abs/1907.08610). The wrapped ("fast") optimizer updates the model
    as usual; after every `sync_period` of its steps the slow weights move towards the
    fast ones, `slow += slow_step_size * (fast - slow)`, and the model is reset to them.
    The sync runs in-graph with `keras.ops.where`, so it works under `fit`,
    `tf.function` and XLA. Learning rate, `iterations`, clipping, weight decay, EMA and
    loss scaling are all the inner optimizer's: `lookahead.learning_rate` reads and sets
    the inner learning rate, and callbacks such as `ReduceLROnPlateau` act on it.

    Args:
        optimizer: The inner `keras.optimizers.Optimizer` instance (or a name such as
            `"adam"`, or a serialized optimizer dict). It must not be built yet.
        sync_period: Number of inner steps `k` between synchronisations. Defaults to `6`.
        slow_step_size: Slow-weight step size `alpha`, in (0, 1]. Defaults to `0.5`.
        name: Name of the optimizer; `None` picks a unique one. Defaults to `None`.
        **kwargs: Only accepted as written by `get_config` (default base-optimizer
            arguments); set `clipnorm`, `weight_decay` and the like on the inner optimizer.

    Example:

    ```python
    import keras
    from kerasopt.optimizers import Lookahead

    opt = Lookahead(keras.optimizers.Adam(1e-3), sync_period=6, slow_step_size=0.5)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    ```
    """

    _own_arguments = ("sync_period", "slow_step_size")

    def __init__(self, optimizer, sync_period=6, slow_step_size=0.5, name=None, **kwargs):
        sync_period = check_int("Lookahead", "sync_period", sync_period, 1, example=6)
        slow_step_size = check_float(
            "Lookahead", "slow_step_size", slow_step_size, 0, 1, closed="right", example=0.5
        )
        super().__init__(optimizer, name=name, **kwargs)
        self.sync_period = sync_period
        self.slow_step_size = slow_step_size

    def build(self, var_list):
        """Builds the inner optimizer and one slow-weight slot per variable."""
        if self.built:
            return
        super().build(var_list)
        self._slow_weights = self.add_optimizer_variables(var_list, "slow")

    def apply(self, grads, trainable_variables=None):
        """Takes one inner step, then syncs slow and fast weights every `sync_period` steps."""
        trainable_variables = self._resolve_variables(trainable_variables)
        pairs = [
            (var, self._slow_weights[self._get_variable_index(var)]) for var in trainable_variables
        ]
        pairs = [(var, slow) for var, slow in pairs if slow is not None]

        # Slow weights start from the weights at the first step rather than at build time,
        # so weights loaded or set between `compile` and `fit` are honoured.
        first = ops.equal(self.iterations, 0)
        for var, slow in pairs:
            self.assign(slow, ops.where(first, var, slow))

        self.inner_optimizer.apply(grads, trainable_variables)

        sync = ops.equal(ops.mod(self.iterations, self.sync_period), 0)
        for var, slow in pairs:
            new_slow = slow + self.slow_step_size * (var - slow)
            self.assign(slow, ops.where(sync, new_slow, slow))
            self.assign(var, ops.where(sync, new_slow, var))

    def get_config(self):
        config = super().get_config()
        config.update({"sync_period": self.sync_period, "slow_step_size": self.slow_step_size})
        return config
