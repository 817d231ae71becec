"""Fine-tuning a TF-MOT-wrapped `tf_keras` model: shared by pruning, clustering and QAT."""

from __future__ import annotations

import keras

from kerasopt.compress._tfmot import tf_keras
from kerasopt.compress.distillation import output_kind
from kerasopt.core.errors import InvalidTypeError, InvalidValueError


def check_finetune_arguments(owner: str, model, skip_layers, epochs: int, batch_size: int):
    """Checks the arguments every TF-MOT fine-tuning entry point shares."""
    if isinstance(skip_layers, str):
        raise InvalidTypeError(
            f"skip_layers takes a list of layer names. Received the string {skip_layers!r}; "
            f"pass [{skip_layers!r}]."
        )
    names = [layer.name for layer in model.layers]
    unknown = sorted(set(skip_layers) - set(names))
    if unknown:
        raise InvalidValueError(
            f"skip_layers names layer(s) {unknown} that model {model.name!r} does not have. "
            f"Its layers are: {names}."
        )
    if epochs < 1 or batch_size < 1:
        raise InvalidValueError(
            f"{owner} needs epochs >= 1 and batch_size >= 1. Received: {epochs=}, {batch_size=}."
        )


def wrap_in_tf_keras(model: keras.Model, wrap_layer, layer_types, skip_layers=()):
    """The `tf_keras` twin of `model` with `wrap_layer(layer)` applied to chosen layers.

    A layer is wrapped when its class name is in `layer_types` and its name is not in
    `skip_layers`; TF-MOT's wrappers (`prune_low_magnitude`, `cluster_weights`) go here.
    """
    from kerasopt.compress.bridge import to_tf_keras

    skipped = set(skip_layers)

    def clone(layer):
        if layer.name in skipped or type(layer).__name__ not in layer_types:
            return layer
        return wrap_layer(layer)

    return tf_keras().models.clone_model(to_tf_keras(model), clone_function=clone)


def compile_like(wrapped, original: keras.Model, learning_rate: float) -> None:
    """Compiles `wrapped` (tf_keras) with Adam and the sparse cross-entropy `original` needs."""
    tfk = tf_keras()
    wrapped.compile(
        optimizer=tfk.optimizers.Adam(learning_rate),
        loss=tfk.losses.SparseCategoricalCrossentropy(
            from_logits=output_kind(original) == "logits"
        ),
        metrics=["accuracy"],
    )


def build_tf_keras_fit_state(wrapped, x, y) -> None:
    """Creates `wrapped`'s optimizer slots and compiled loss and metrics before `fit`.

    The `tf_keras` twin of `kerasopt.training.fit_state.build_fit_state`: tf_keras also
    leaves them to the first trace of the train step, which is then traced twice. One
    sample goes through the model in inference mode; nothing is trained.
    """
    import tensorflow as tf

    wrapped.optimizer.build(wrapped.trainable_variables)
    y_pred = wrapped(tf.convert_to_tensor(x[:1], "float32"), training=False)
    wrapped.compiled_loss.build(y_pred)
    wrapped.compiled_metrics.build(y_pred, tf.convert_to_tensor(y[:1]))


def finetune(
    wrapped,
    original: keras.Model,
    data,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    callbacks: list | None = None,
    verbose: int = 0,
):
    """Compiles and fits `wrapped` on `data`'s train split, validating on `x_val` if any."""
    compile_like(wrapped, original, learning_rate)
    build_tf_keras_fit_state(wrapped, data.x_train, data.y_train)
    validation = None
    if getattr(data, "x_val", None) is not None:
        validation = (data.x_val, data.y_val)
    return wrapped.fit(
        data.x_train,
        data.y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks or [],
        verbose=verbose,
    )
