"""Reptile (Nichol, Achiam & Schulman, 2018): meta-learn an initialisation that adapts fast.

Each meta-iteration draws a task (a `ways`-way episode of the meta-train classes, labels
permuted), adapts the current weights `phi` to it with `inner_steps` Adam steps, and moves
`phi` toward the adapted weights `W`: `phi <- phi + epsilon_t * (W - phi)`, with `epsilon_t`
annealed linearly from `meta_step` to `meta_step_final`. The weights are NumPy lists; the
inner step is one compiled `tf.function`, so a meta-iteration costs `inner_steps` graph
calls and two weight copies.

`TaskAdapter` is also how every method is scored: the Reptile init, a random init and a
pre-trained body all adapt with the same optimizer and steps on the same support set.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import keras
import numpy as np
import tensorflow as tf

from kerasopt.core.validation import check_float, check_option, check_positive_int
from kerasopt.training.batch_norm_recalibration import batch_norm_layers, momenta_restored

logger = logging.getLogger(__name__)


def reptile_update(init: list, adapted: list, epsilon: float) -> list[np.ndarray]:
    """One outer step: `init + epsilon * (adapted - init)` for each weight array.

    Example:

    >>> import numpy as np
    >>> reptile_update([np.zeros(2)], [np.ones(2)], 0.25)[0].tolist()
    [0.25, 0.25]
    """
    return [w + epsilon * (a - w) for w, a in zip(init, adapted, strict=True)]


def meta_step_size(iteration: int, iterations: int, start: float, end: float = 0.0) -> float:
    """The annealed outer step size: linear from `start` (iteration 0) toward `end`.

    Example:

    >>> meta_step_size(50, 100, 1.0)
    0.5
    """
    fraction = iteration / max(iterations, 1)
    return start * (1.0 - fraction) + end * fraction


#: The optimizers `TaskAdapter` adapts with.
ADAPT_OPTIMIZERS = ("sgd", "adam")


class TaskAdapter:
    """Adapts one Keras classifier to a task in a few compiled full-batch steps.

    `"sgd"` is plain gradient descent; `"adam"` is Adam with `beta_1=0` (as in the Reptile
    paper: momentum carried from an earlier task would point the wrong way). Optimizer
    state is reset before every task, so each task starts alike.

    BatchNormalization layers end each adaptation with the support set's own
    statistics as their moving mean and variance (one pass in training mode at momentum
    0): a few steps at the usual momentum 0.99 leave them where the previous task put
    them, and the adapted model scored at chance when evaluated (0.22, 5 ways, on a
    MobileNet-style CNN). Only the support set is used, never the queries.

    Args:
        model: A classifier with softmax outputs, built once and reused for every task.
        learning_rate: The optimizer's learning rate. Defaults to `0.1`.
        optimizer: `"sgd"` or `"adam"`. Defaults to `"sgd"`.

    Example:

    >>> adapter = TaskAdapter(build_cnn((8, 8), 5, input_max=16))  # doctest: +SKIP
    >>> weights = adapter.adapt(adapter.model.get_weights(), x, y, steps=5)  # doctest: +SKIP
    """

    def __init__(self, model: keras.Model, learning_rate: float = 0.1, optimizer: str = "sgd"):
        self.model = model
        self.learning_rate = check_float(
            "TaskAdapter", "learning_rate", learning_rate, 0, closed="neither", example=0.1
        )
        check_option("TaskAdapter", "optimizer", optimizer, ADAPT_OPTIMIZERS)
        if optimizer == "sgd":
            self.optimizer = keras.optimizers.SGD(self.learning_rate)
        else:
            self.optimizer = keras.optimizers.Adam(self.learning_rate, beta_1=0.0)
        self.optimizer.build(model.trainable_variables)
        self._fresh = [v.numpy() for v in self.optimizer.variables]
        self._loss = keras.losses.SparseCategoricalCrossentropy()
        self._step = tf.function(self._train_step, reduce_retracing=True)
        self._predict = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
        self._batch_norms = batch_norm_layers(model)
        self._calibrate = tf.function(self._calibrate_step, reduce_retracing=True)

    def _calibrate_step(self, x):
        """Sets every BatchNormalization layer's moving statistics to `x`'s batch statistics."""
        # Momentum 0 is traced into the graph; the layers keep their own afterwards.
        with momenta_restored(self._batch_norms) as layers:
            for layer in layers:
                layer.momentum = 0.0
            self.model(x, training=True)

    def _train_step(self, x, y):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss = self._loss(y, self.model(x, training=True))
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return loss

    def adapt(self, weights: list, x, y, *, steps: int) -> list[np.ndarray]:
        """Sets `weights`, takes `steps` steps on all of `(x, y)`; returns the new weights."""
        self.model.set_weights(weights)
        for variable, value in zip(self.optimizer.variables, self._fresh, strict=True):
            variable.assign(value)
        x = tf.convert_to_tensor(np.asarray(x, "float32"))
        y = tf.convert_to_tensor(np.asarray(y, "int32"))
        for _ in range(steps):
            self._step(x, y)
        if self._batch_norms:
            self._calibrate(x)
        return self.model.get_weights()

    def accuracy(self, x, y) -> float:
        """Accuracy of the model's current weights on `(x, y)`."""
        probabilities = self._predict(tf.convert_to_tensor(np.asarray(x, "float32")))
        return float(np.mean(np.argmax(probabilities.numpy(), -1) == np.asarray(y)))


@dataclasses.dataclass(frozen=True)
class MetaTraining:
    """What `reptile_meta_train` returns.

    Attributes:
        weights: The meta-learned initialisation.
        iterations: Meta-iterations run.
        seconds: Wall time of the meta-training.
        iterations_per_second: `iterations / seconds`.
    """

    weights: list
    iterations: int
    seconds: float
    iterations_per_second: float


def reptile_meta_train(
    adapter: TaskAdapter,
    sampler,
    initial_weights: list,
    *,
    iterations: int,
    inner_steps: int = 5,
    meta_step: float = 1.0,
    meta_step_final: float = 0.0,
) -> MetaTraining:
    """Runs `iterations` Reptile outer steps from `initial_weights`.

    Args:
        adapter: Adapts the model to each task.
        sampler: An `EpisodeSampler` of the meta-train classes; iteration `t` trains on
            the support set of its episode `t`.
        initial_weights: Where meta-training starts (a fresh model's weights).
        iterations: Outer steps, at least 1.
        inner_steps: Adam steps per task. Defaults to `5`.
        meta_step: Outer step size at the first iteration. Defaults to `1.0`.
        meta_step_final: Outer step size the schedule reaches at the end. Defaults to `0.0`.

    Example:

    >>> result = reptile_meta_train(adapter, sampler, weights, iterations=1000)  # doctest: +SKIP
    """
    iterations = check_positive_int("reptile_meta_train", "iterations", iterations)
    inner_steps = check_positive_int("reptile_meta_train", "inner_steps", inner_steps)
    meta = [np.array(w, copy=True) for w in initial_weights]
    start = time.perf_counter()
    for t in range(iterations):
        task = sampler.episode(t)
        adapted = adapter.adapt(meta, task.support_x, task.support_y, steps=inner_steps)
        epsilon = meta_step_size(t, iterations, meta_step, meta_step_final)
        meta = reptile_update(meta, adapted, epsilon)
        if (t + 1) % max(iterations // 10, 1) == 0:
            seconds = time.perf_counter() - start
            logger.info(
                "reptile: %d/%d meta-iterations, %.1f/s", t + 1, iterations, (t + 1) / seconds
            )
    seconds = time.perf_counter() - start
    return MetaTraining(meta, iterations, seconds, iterations / max(seconds, 1e-9))
