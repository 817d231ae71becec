"""Fine-tuning a TF-MOT-wrapped `tf_keras` model: shared by pruning, clustering and QAT."""

from __future__ import annotations

import keras

from kerasopt.compress._tfmot import tf_keras


def ends_in_softmax(model: keras.Model) -> bool:
    """Whether the Keras 3 model outputs probabilities (so the loss takes no logits)."""
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    return activation is keras.activations.softmax or type(last).__name__ == "Softmax"


def compile_like(wrapped, original: keras.Model, learning_rate: float) -> None:
    """Compiles `wrapped` (tf_keras) with Adam and the sparse cross-entropy `original` needs."""
    tfk = tf_keras()
    wrapped.compile(
        optimizer=tfk.optimizers.Adam(learning_rate),
        loss=tfk.losses.SparseCategoricalCrossentropy(from_logits=not ends_in_softmax(original)),
        metrics=["accuracy"],
    )


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
