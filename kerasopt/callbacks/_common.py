"""The gradient probe, the weight check and the batch check shared by the kerasopt callbacks.

The probe computes the loss and gradients of a fixed `(x, y)` batch with the model in
training mode (BatchNorm on batch statistics, dropout on), through `stateless_call` and
`stateless_compute_loss`: BatchNorm moving statistics, dropout seeds and the loss metrics
the progress bar shows are left exactly as they were, so probing never changes training.
"""

import keras
import numpy as np
import tensorflow as tf

from kerasopt.core import validation
from kerasopt.core.errors import InvalidValueError


def unpack_batch(owner, arg, data):
    """Checks `data` is `(x, y)` or `(x, y, sample_weight)` of finite arrays; returns tensors."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        got = f"a {type(data).__name__}" + (
            f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""
        )
        raise validation.invalid_type(
            owner,
            f"{arg} to be a tuple (x, y) or (x, y, sample_weight)",
            got,
            f"Pass e.g. {arg}=(x_train[:32], y_train[:32]).",
        )
    data = tuple(data) + (None,) * (3 - len(data))
    for part, value in zip(("x", "y", "sample_weight"), data, strict=True):
        for leaf in tf.nest.flatten(value):
            validation.check_finite(
                owner,
                f"the {part} of {arg}",
                leaf,
                fix="Pick a clean batch, e.g. after x = np.nan_to_num(x).",
            )
    return tuple(
        None if v is None else tf.nest.map_structure(tf.convert_to_tensor, v) for v in data
    )


def _walk(layer):
    """Yields the sublayers of `layer` depth-first, each before its children, in model order."""
    # `_flatten_layers(recursive=True)` visits nested children in reverse, so recurse by hand.
    for child in layer._flatten_layers(include_self=False, recursive=False):
        yield child
        yield from _walk(child)


def group_by_layer(model, variables, reserved=()):
    """Returns `[(layer_name, [indices into variables]), ...]` in model order.

    Each variable belongs to the deepest layer that holds it (the Dense inside a nested
    Sequential, not the Sequential); variables of the model itself go under its name.
    Repeated layer names, and names in `reserved`, get a `#2`, `#3` suffix so they can
    serve as CSV columns.
    """
    layers = [model, *_walk(model)]
    owner = {}
    for position, layer in enumerate(layers):
        for variable in layer.weights:
            owner[id(variable)] = position  # Deeper layers come later and win.
    groups = {}
    for index, variable in enumerate(variables):
        groups.setdefault(owner.get(id(variable), 0), []).append(index)
    named, seen = [], dict.fromkeys(reserved, 1)
    for position in sorted(groups):
        name = layers[position].name
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name}#{seen[name]}", groups[position]))
    return named


def _signature(model, *variable_lists):
    return (id(model), *(tuple(id(v) for v in variables) for variables in variable_lists))


class WeightCheck:
    """Finds the layers whose weights (trainable or not) hold NaN/Inf, in one device call."""

    def __init__(self, model):
        self.signature = _signature(model, model.weights)
        # Integer weights (lookup tables, counters) cannot hold NaN.
        self._variables = [v for v in model.weights if keras.backend.is_float_dtype(v.dtype)]
        self._groups = group_by_layer(model, self._variables)
        self._flags = tf.function(
            lambda: tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in self._variables])
        )

    @classmethod
    def for_model(cls, model, previous=None):
        """Returns `previous` if it was built for the same model and weights, else a new one.

        Reusing it across `fit` calls avoids tracing the check again each time.
        """
        if previous is not None and previous.signature == _signature(model, model.weights):
            return previous
        return cls(model)

    @property
    def layer_names(self):
        """Names of the layers that own a float weight, in model order."""
        return [name for name, _ in self._groups]

    def nonfinite_layers(self):
        """Returns the names of layers with a non-finite weight, in model order."""
        if not self._variables:
            return []
        flags = self._flags().numpy()
        if flags.all():
            return []
        return [name for name, indices in self._groups if not flags[indices].all()]


#: Probe calls run eagerly before the probe is traced. Tracing the forward and backward
#: pass costs 0.7-0.8 s, 3-15 eager calls (45-240 ms each, from a 4-filter digits CNN to
#: the Fashion-MNIST default, 2 cores); a fit of up to 150 steps checks 3 times.
EAGER_PROBE_CALLS = 3


class GradientProbe:
    """Loss, per-layer gradient norms and weight norms of `model` on one fixed batch.

    The first `EAGER_PROBE_CALLS` calls run eagerly; later ones run a traced function.
    """

    def __init__(self, model, batch, reserved=()):
        if keras.backend.backend() != "tensorflow":
            raise InvalidValueError(
                "kerasopt gradient probes need the TensorFlow backend, got "
                f"KERAS_BACKEND={keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow."
            )
        self.model = model
        self.signature = self._model_signature(model)
        self.batch = batch
        self.x, self.y, self.sample_weight = batch
        self._variables = list(model.trainable_variables)
        groups = group_by_layer(model, self._variables, reserved)
        self.layer_names = [name for name, _ in groups]
        self._groups = [indices for _, indices in groups]
        self._fn = tf.function(self._norms)
        self._calls = 0

    @staticmethod
    def _model_signature(model):
        # The traced function captures all three lists; any change needs a new trace.
        return _signature(
            model, model.trainable_variables, model.non_trainable_variables, model.metrics_variables
        )

    @classmethod
    def for_model(cls, model, batch, previous=None, reserved=()):
        """Returns `previous` if built for the same model, variables and batch, else a new one.

        Reusing it across `fit` calls avoids tracing the forward and backward pass again.
        """
        if (
            previous is not None
            and previous.batch is batch
            and previous.signature == cls._model_signature(model)
        ):
            return previous
        return cls(model, batch, reserved)

    def _norms(self, x, y, sample_weight):
        model = self.model
        trainable = [v.value for v in self._variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            loss, _ = model.stateless_compute_loss(
                trainable, non_trainable, metrics, x=x, y=y, y_pred=y_pred,
                sample_weight=sample_weight, training=True,
            )  # fmt: skip
        grads = tape.gradient(loss, trainable)
        self._connected = [g is not None for g in grads]  # Known once traced.
        # A variable the loss does not reach has no gradient: norm 0, finite. Dense float32
        # copies: Embedding gradients are IndexedSlices, float16 norms overflow at 65504.
        grads = [tf.zeros((), tf.float32) if g is None else tf.cast(g, tf.float32) for g in grads]
        grad_norms = [tf.norm(g) for g in grads]
        finite = [tf.reduce_all(tf.math.is_finite(g)) for g in grads]
        weight_norms = [tf.norm(tf.cast(v, tf.float32)) for v in trainable]
        return loss, tf.stack(grad_norms), tf.stack(finite), tf.stack(weight_norms)

    @property
    def connected_layers(self):
        """Names of layers with a variable the loss reaches (known after the first call)."""
        connected = getattr(self, "_connected", None) or []
        return [
            name
            for name, indices in zip(self.layer_names, self._groups, strict=True)
            if any(connected[i] for i in indices)
        ]

    def __call__(self):
        """Returns a dict: loss, global, layers, weights ({name: norm}) and nonfinite (names)."""
        if not self._variables:
            raise InvalidValueError(
                f"Model {self.model.name!r} has no trainable variables to take gradients of. "
                "Unfreeze a layer (layer.trainable = True) before training."
            )
        norms = self._fn if self._calls >= EAGER_PROBE_CALLS else self._norms
        self._calls += 1
        loss, grad_norms, finite, weight_norms = norms(self.x, self.y, self.sample_weight)
        # Sum squares in float64: float32 overflows for norms above ~1e19.
        grad_sq = np.square(grad_norms.numpy().astype("float64"))
        weight_sq = np.square(weight_norms.numpy().astype("float64"))
        finite = finite.numpy()
        groups = list(zip(self.layer_names, self._groups, strict=True))
        return {
            "loss": float(loss),
            "global": float(np.sqrt(grad_sq.sum())),
            "layers": {n: float(np.sqrt(grad_sq[i].sum())) for n, i in groups},
            "weights": {n: float(np.sqrt(weight_sq[i].sum())) for n, i in groups},
            "nonfinite": [n for n, i in groups if not finite[i].all()],
        }
