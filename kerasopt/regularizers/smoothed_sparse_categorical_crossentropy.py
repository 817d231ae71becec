"""Sparse categorical cross-entropy with label smoothing, which Keras 3 lacks."""

import keras
from keras import ops

from kerasopt.core.validation import check_fraction, check_type


@keras.saving.register_keras_serializable(package="kerasopt")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing.

    Keras 3's `SparseCategoricalCrossentropy` has no `label_smoothing`, and
    `CategoricalCrossentropy(label_smoothing=...)` wants one-hot labels. This loss takes
    integer labels (shape `(batch,)` or `(batch, 1)`), one-hots them inside the graph
    with as many classes as `y_pred` has, and returns exactly
    `keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=...)`: the
    target becomes `one_hot * (1 - label_smoothing) + label_smoothing / num_classes`
    (Szegedy et al., 2016). With `label_smoothing=0` it equals
    `SparseCategoricalCrossentropy`. A label outside `[0, num_classes)` one-hots to a
    zero row instead of raising, so check labels first (`kerasopt.data.check_arrays`).

    Args:
        label_smoothing: Amount of probability mass moved from the true class to all
            classes, in `[0, 1)`. Defaults to `0.1`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            Defaults to `False`.
        reduction: Keras loss reduction. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss. Defaults to `"smoothed_sparse_categorical_crossentropy"`.
        dtype: Dtype of the loss computation; `None` uses `keras.config.floatx()`.
            Defaults to `None`.

    Example:

    ```python
    import keras
    from kerasopt.regularizers import SmoothedSparseCategoricalCrossentropy

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    model.compile(
        optimizer="adam",
        loss=SmoothedSparseCategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )
    ```
    """

    def __init__(
        self,
        label_smoothing=0.1,
        from_logits=False,
        reduction="sum_over_batch_size",
        name="smoothed_sparse_categorical_crossentropy",
        dtype=None,
    ):
        owner = "SmoothedSparseCategoricalCrossentropy"
        check_fraction(
            owner, "label_smoothing", label_smoothing, closed="left",
            fix="Typical values are 0.05 to 0.2.",
        )  # fmt: skip
        check_type(owner, "from_logits", from_logits, bool, expected="a bool")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = float(label_smoothing)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        num_classes = y_pred.shape[-1]
        if num_classes is None:
            num_classes = ops.shape(y_pred)[-1]
        one_hot = ops.one_hot(ops.cast(y_true, "int32"), num_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot,
            y_pred,
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "from_logits": self.from_logits})
        return config
