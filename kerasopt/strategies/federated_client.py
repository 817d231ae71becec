"""The Flower `ClientApp` of `federated`: local Keras 3 training, with FedProx's proximal term.

A client runs inside a Ray actor of Flower's simulation engine. It receives the global
weights (an `ArrayRecord`) and a `ConfigRecord` (`local-epochs`, `batch-size`,
`learning-rate`, and `proximal-mu` from Flower's `FedProx`), trains its own shard with
`model.fit`, and replies with its weights and `num-examples`, the weight of FedAvg's mean.

What a client needs travels as files, not inside the message: `federated` writes each
shard (`client_{i}.npz`) and the pickled model builder (`build_model.pkl`) to a temporary
folder, and the `ClientApp` carries only that folder's path, because Flower pickles the
`ClientApp` with every message. Each actor process builds its model and compiles its
train step once per folder, then only assigns weights: a fresh `fit` each message would
retrace the step, the slowest part of a small client.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import keras
import numpy as np
from keras import ops

from kerasopt.training.batch_norm_recalibration import recalibrate_batch_norm
from kerasopt.training.fit_state import build_fit_state

#: Per actor process: `folder -> (model, ProximalModel, optimizer start state)`.
_MODELS: dict = {}
#: Per actor process: `(folder, client) -> (x, y)`.
_SHARDS: dict = {}


class ProximalModel(keras.Model):
    """Wraps a classifier so that its training loss adds FedProx's `mu/2 * ||w - w_g||^2`.

    `w` are the wrapped model's trainable weights and `w_g` the global weights of the
    round, copied by `set_anchor()` before local training (Li et al., 2018). `mu` is a
    variable, so changing it does not retrace the compiled train step. With `mu=0` the
    loss is the wrapped model's. A training wrapper only: it is never saved (the
    wrapped model is what `federated` exports), so it is not registered.

    Args:
        model: The classifier to train.
        mu: Proximal weight, `>= 0`. Defaults to `0.0`.

    Example:

    >>> proximal = ProximalModel(model, mu=0.01)  # doctest: +SKIP
    >>> proximal.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # doctest: +SKIP
    >>> proximal.set_anchor()  # doctest: +SKIP
    >>> proximal.fit(x, y, epochs=1)  # doctest: +SKIP
    """

    def __init__(self, model: keras.Model, mu: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.mu = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(float(mu)), trainable=False, name="mu"
        )
        self.anchors = [
            self.add_weight(
                shape=w.shape,
                initializer="zeros",
                dtype=w.dtype,
                trainable=False,
                name=f"anchor_{i}",
            )
            for i, w in enumerate(model.trainable_weights)
        ]
        self.set_anchor()

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def set_anchor(self) -> None:
        """Copies the wrapped model's current trainable weights as `w_g`."""
        for anchor, weight in zip(self.anchors, self.model.trainable_weights, strict=True):
            anchor.assign(weight)

    def proximal_term(self):
        """`mu/2 * sum ||w - w_g||^2` over the trainable weights, as a scalar tensor."""
        squares = [
            ops.sum(ops.square(w - a))
            for w, a in zip(self.model.trainable_weights, self.anchors, strict=True)
        ]
        return 0.5 * self.mu * ops.sum(ops.stack(squares))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
        )
        return loss + ops.cast(self.proximal_term(), loss.dtype)


def write_client_files(folder: Path, shards: list[tuple[np.ndarray, np.ndarray]], build_model):
    """Writes `client_{i}.npz` per shard and `build_model.pkl` (cloudpickle) to `folder`."""
    from ray import cloudpickle  # Ray's own copy: `cloudpickle` itself is no dependency

    for i, (x, y) in enumerate(shards):
        np.savez(folder / f"client_{i}.npz", x=x, y=y)
    (folder / "build_model.pkl").write_bytes(cloudpickle.dumps(build_model))


def _limit_threads() -> None:
    """One TensorFlow thread pool per actor: actors already run in parallel, one per CPU."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process
        pass


def _client_model(folder: str, x, y):
    if folder not in _MODELS:
        _limit_threads()
        build_model = pickle.loads((Path(folder) / "build_model.pkl").read_bytes())
        model = build_model()
        proximal = ProximalModel(model)
        optimizer = keras.optimizers.Adam()
        proximal.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,  # XLA's compile costs seconds; a client runs a few steps
        )
        # The optimizer's slots and the metrics' variables, made before the first `fit`:
        # made inside it, they would trace the train step twice.
        build_fit_state(proximal, (x, y))
        start = [v.numpy() for v in optimizer.variables]
        _MODELS[folder] = (model, proximal, optimizer, start)
    return _MODELS[folder]


def _client_shard(folder: str, client: int):
    key = (folder, client)
    if key not in _SHARDS:
        with np.load(Path(folder) / f"client_{client}.npz") as files:
            _SHARDS[key] = (files["x"], files["y"])
    return _SHARDS[key]


def local_train(folder: str, client: int, weights: list, config) -> tuple[list, dict]:
    """Trains client `client` from `weights` as `config` says; returns weights and metrics.

    The optimizer (Adam) starts afresh every round: a FedAvg client keeps no state
    between rounds, and a client may run in a different actor next round.
    """
    x, y = _client_shard(folder, client)
    model, proximal, optimizer, start = _client_model(folder, x, y)
    model.set_weights(weights)
    proximal.set_anchor()
    proximal.mu.assign(float(config.get("proximal-mu", 0.0)))
    for variable, value in zip(optimizer.variables, start, strict=True):
        variable.assign(value)
    optimizer.learning_rate.assign(float(config["learning-rate"]))
    seed = int(config.get("seed", 0)) + 1000 * int(config.get("server-round", 0)) + client
    keras.utils.set_random_seed(seed)
    batch_size = int(config["batch-size"])
    history = proximal.fit(
        x,
        y,
        epochs=int(config["local-epochs"]),
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
    )
    # BatchNorm's moving statistics follow the weights at momentum 0.99: a round's few
    # steps left them far from the trained weights' statistics (residual CNN, 5 clients,
    # 8 rounds: global accuracy 0.11, 0.70 once re-estimated). Each client re-estimates
    # them on its shard, so FedAvg averages statistics that belong to the weights sent.
    recalibrate_batch_norm(
        model, x, batches=max(1, len(x) // batch_size), batch_size=batch_size, seed=seed
    )
    metrics = {
        "train-loss": float(history.history["loss"][-1]),
        "train-accuracy": float(history.history["accuracy"][-1]),
        "num-examples": len(y),
    }
    return model.get_weights(), metrics


def make_client_app(folder: str):
    """The `ClientApp` whose clients train the shards written to `folder`."""
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    app = ClientApp()

    @app.train()
    def train(msg: Message, context) -> Message:
        client = int(context.node_config["partition-id"])
        weights = msg.content["arrays"].to_numpy_ndarrays()
        new_weights, metrics = local_train(folder, client, weights, msg.content["config"])
        content = RecordDict({"arrays": ArrayRecord(new_weights), "metrics": MetricRecord(metrics)})
        return Message(content=content, reply_to=msg)

    return app
