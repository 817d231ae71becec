"""Base class for optimizers that wrap an inner Keras 3 optimizer."""

import keras

from kerasopt.core.errors import InvalidTypeError, InvalidValueError

# Base-optimizer arguments that `get_config` always writes. A wrapper only accepts their
# defaults: it never uses them itself, they belong on the wrapped optimizer.
_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class OptimizerWrapper(keras.optimizers.Optimizer):
    """Base class for an optimizer that delegates its steps to a wrapped optimizer.

    It checks and holds the inner optimizer, builds it, and hands it the learning rate,
    `iterations`, loss scaling and variable finalisation, so callbacks such as
    `ReduceLROnPlateau` act on the inner optimizer. `get_config` serializes the inner
    optimizer under `"optimizer"` and `from_config` restores it. A subclass checks its own
    arguments, calls `super().__init__(optimizer, name=name, **kwargs)`, lists its argument
    names in `_own_arguments` (for the "unexpected argument" error) and implements `apply`,
    starting with `trainable_variables = self._resolve_variables(trainable_variables)`.

    Args:
        optimizer: The inner `keras.optimizers.Optimizer` instance (or a name such as
            `"adam"`, or a serialized optimizer dict). It must not be built yet.
        name: Name of the optimizer; `None` picks a unique one. Defaults to `None`.
        **kwargs: Only accepted as written by `get_config` (default base-optimizer
            arguments); set `clipnorm`, `weight_decay` and the like on the inner optimizer.

    Example:

    ```python
    import keras
    from kerasopt.optimizers.optimizer_wrapper import OptimizerWrapper

    class Passthrough(OptimizerWrapper):
        def apply(self, grads, trainable_variables=None):
            trainable_variables = self._resolve_variables(trainable_variables)
            self.inner_optimizer.apply(grads, trainable_variables)

    opt = Passthrough(keras.optimizers.Adam(1e-3))
    ```
    """

    # The subclass's own constructor arguments, named in the "unexpected argument" error.
    _own_arguments = ()
    # The inner optimizer the fix text of the errors suggests, from `keras.optimizers`.
    _example_optimizer = "Adam"

    def __init__(self, optimizer, name=None, **kwargs):
        owner = type(self).__name__
        example = f"keras.optimizers.{self._example_optimizer}"
        if isinstance(optimizer, (str, dict)):
            optimizer = keras.optimizers.get(optimizer)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise InvalidTypeError(
                f"{owner} requires `optimizer` to be a keras.optimizers.Optimizer, got "
                f"{optimizer!r} ({type(optimizer).__name__}). Wrap a Keras 3 optimizer, "
                f"e.g. {owner}({example}())."
            )
        if optimizer.built:
            raise InvalidValueError(
                f"{owner} requires an unbuilt inner optimizer, got {optimizer.name!r}, which "
                "is already built on other variables. Pass a freshly created optimizer."
            )
        learning_rate = kwargs.pop("learning_rate", None)
        if learning_rate not in (None, 0.0):
            raise InvalidValueError(
                f"{owner} uses the inner optimizer's learning rate, got {learning_rate=}. "
                f"Set it on the inner optimizer: {owner}({example}(learning_rate))."
            )
        for key, value in kwargs.items():
            if key in _BASE_DEFAULTS and value != _BASE_DEFAULTS[key]:
                raise InvalidValueError(
                    f"{owner} does not apply `{key}` itself, got {key}={value!r}. Set it on "
                    f"the inner optimizer: {owner}({example}({key}={value!r}))."
                )
            if key not in _BASE_DEFAULTS:
                accepted = ["optimizer", *self._own_arguments]
                raise InvalidValueError(
                    f"{owner} got an unexpected argument {key}={value!r}. It accepts "
                    f"{', '.join(accepted)} and name."
                )
        # The wrapper's own learning rate is a placeholder; `learning_rate` below delegates.
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = optimizer

    def build(self, var_list):
        """Builds the inner optimizer, then the wrapper's own state."""
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    def _resolve_variables(self, trainable_variables):
        """Returns the variables `apply` works on, building on the first call."""
        if trainable_variables is None:
            if not self.built:
                raise InvalidValueError(
                    f"{type(self).__name__}.apply() got no variables and is not built yet. "
                    "Call optimizer.build(trainable_variables) or pass the variables."
                )
            return self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        return trainable_variables

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def variables(self):
        return self._variables[:] + self.inner_optimizer.variables

    def scale_loss(self, loss):
        return self.inner_optimizer.scale_loss(loss)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        config = super().get_config()
        config.update({"optimizer": keras.optimizers.serialize(self.inner_optimizer)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        optimizer = keras.optimizers.deserialize(
            config.pop("optimizer"), custom_objects=custom_objects
        )
        return cls(optimizer, **config)
