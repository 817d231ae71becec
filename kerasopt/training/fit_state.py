"""`build_fit_state`: create a compiled model's training variables before `fit`.

Keras 3's TensorFlow trainer, without a distribution strategy, leaves the optimizer's
slots and the compiled metrics' variables to the first trace of the train step. A
`tf.function` that creates variables on its first call is traced a second time
(tensorflow/tensorflow#48851), so every `fit` paid for two traces of the train step. On
a small digits CNN (2 cores, one TensorFlow thread) that is 1.3-1.7 s of a 3-epoch fit of
2.6-3.3 s, with the same losses to the last digit. Keras already builds this state up front
when a strategy is set (`Trainer._symbolic_build`, from shapes only); this does the same
for every model.
"""

import numpy as np


def build_fit_state(model, data) -> None:
    """Builds `model`'s optimizer and compiled-metric variables from `data`'s shapes.

    Does nothing for a model that is not compiled, or when Keras offers no symbolic
    build (the first `fit` then traces twice, as before). Nothing is run on data: the
    variables are created from shapes and dtypes, as Keras does under a strategy.

    Args:
        model: A compiled Keras model.
        data: What `fit` will get: a `tf.data.Dataset` (its `element_spec`), or a
            batch `(x, y)` or `(x, y, sample_weight)` of arrays.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> build_fit_state(model, (np.zeros((8, 4)), np.zeros(8)))
    >>> model.optimizer.built
    True
    """
    symbolic_build = getattr(model, "_symbolic_build", None)
    if symbolic_build is None or not getattr(model, "compiled", False):
        return
    spec = getattr(data, "element_spec", None)
    if spec is None:
        spec = tuple(None if part is None else np.asarray(part[:1]) for part in data)
    with model.distribute_strategy.scope():
        symbolic_build(data_batch=spec)
