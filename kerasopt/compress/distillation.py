"""Knowledge distillation through `keras.distillation`, for classifiers that end in softmax.

`keras.distillation.LogitsDistillation` divides its inputs by the temperature and
applies a softmax, so it needs logits. A softmax classifier's `log(p)` is its logits up
to a per-sample constant, which softmax ignores: `softmax(log(p) / T)` is `p ** (1 / T)`
renormalized, the softened distribution of Hinton et al. `logits_view` puts a
`LogProbabilities` layer on top of a model, sharing its layers, and `build_distiller`
hands the two views to `keras.distillation.Distiller`; training the student's view
trains the student itself.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasopt.core.validation import check_float, check_fraction, invalid_type, invalid_value

#: Layers that pass class scores through unchanged at inference.
PASS_THROUGH_LAYERS = (keras.layers.Dropout, keras.layers.Identity)


@keras.saving.register_keras_serializable(package="kerasopt")
class LogProbabilities(keras.layers.Layer):
    """`log(clip(p, epsilon, 1))`: class probabilities as logits for distillation.

    Softmax is invariant to a per-sample constant, so these log-probabilities act as the
    model's logits: `softmax(log p) = p` and `softmax(log(p) / T) = p ** (1 / T) / sum`.
    The clip keeps `log` finite where a float32 softmax underflows to 0; 1e-12 (rather
    than Keras' 1e-7) keeps the teacher's small probabilities from being lifted toward
    uniform once softened (`1e-7 ** (1 / 4)` is 0.018, `1e-12 ** (1 / 4)` 0.001).

    Args:
        epsilon: Smallest probability kept, in `(0, 1)`. Defaults to `1e-12`.

    Example:

    >>> import numpy as np
    >>> from kerasopt.compress.distillation import LogProbabilities
    >>> logits = LogProbabilities()(np.array([[0.5, 0.5]], "float32"))
    >>> np.asarray(logits, dtype="float64").round(4).tolist()
    [[-0.6931, -0.6931]]
    """

    def __init__(self, epsilon: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = check_float(
            "LogProbabilities", "epsilon", epsilon, 0, 1, closed="neither", example=1e-12
        )

    def call(self, inputs):
        return ops.log(ops.clip(inputs, self.epsilon, 1.0))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config


def output_kind(model: keras.Model) -> str:
    """`"probabilities"` or `"logits"`: what the single output of `model` holds.

    A softmax (activation, `Softmax` or `Activation("softmax")` layer) gives
    probabilities; a linear or `log_softmax` activation gives logits. `Dropout` and
    `Identity` after it, and a nested model's own last layer, are looked through. A
    mixture of probabilities (`keras.layers.Average`, or a layer whose class sets
    `averages_probabilities = True`, such as an ensemble's `WeightedAverage`) over
    inputs that are all probabilities gives probabilities.

    Raises:
        InvalidValueError: Several outputs, no symbolic output, or a last layer that is
            neither (a sigmoid, a `Reshape`, ...).
    """
    check_single_output(model, "output_kind")
    kind, layer, activation = _tensor_kind(model.outputs[0])
    if kind is not None:
        return kind
    raise invalid_value(
        "logits_view",
        "a classifier whose output layer ends in softmax (probabilities) or is linear (logits)",
        f"model {model.name!r} ending in {type(layer).__name__} {layer.name!r} "
        f"(activation={activation!r})",
        "End the model with Dense(num_classes, activation='softmax') or a linear "
        "Dense(num_classes).",
    )


def _tensor_kind(tensor) -> tuple[str | None, keras.layers.Layer, str | None]:
    """`(kind or None, the deciding layer, its activation name)` of a symbolic tensor."""
    layer, node_index, tensor_index = tensor._keras_history
    while True:
        if isinstance(layer, keras.Model) and getattr(layer, "outputs", None):
            layer, node_index, tensor_index = layer.outputs[tensor_index]._keras_history
            continue
        if isinstance(layer, PASS_THROUGH_LAYERS):
            layer, node_index, tensor_index = (
                layer._inbound_nodes[node_index].input_tensors[0]._keras_history
            )
            continue
        break
    if isinstance(layer, keras.layers.Average) or getattr(layer, "averages_probabilities", False):
        inputs = layer._inbound_nodes[node_index].input_tensors
        kinds = [_tensor_kind(t)[0] for t in inputs]
        if kinds and all(kind == "probabilities" for kind in kinds):
            return "probabilities", layer, None
        return None, layer, None
    if isinstance(layer, keras.layers.Softmax):
        return "probabilities", layer, "softmax"
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    if activation == "softmax":
        return "probabilities", layer, activation
    if activation in ("linear", "log_softmax"):
        return "logits", layer, activation
    return None, layer, activation


def logits_view(model: keras.Model) -> keras.Model:
    """A model sharing `model`'s layers whose output is logits (log-probabilities).

    For a softmax classifier: `keras.Model(model.inputs, LogProbabilities()(output))`;
    training the view trains `model`. A model that already outputs logits (a linear or
    `log_softmax` last layer) is returned as is.

    Args:
        model: A built Functional or Sequential classifier with one output.

    Raises:
        InvalidValueError: Several outputs, or an output that is neither probabilities
            nor logits (see `output_kind`).

    Example:

    >>> import keras
    >>> from kerasopt.compress.distillation import logits_view
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> view = logits_view(model)
    >>> view.layers[-1].__class__.__name__, view.layers[1] is model.layers[0]
    ('LogProbabilities', True)
    """
    if output_kind(model) == "logits":
        return model
    outputs = LogProbabilities(name="log_probabilities")(model.outputs[0])
    return keras.Model(model.inputs, outputs, name=f"{model.name}_logits")


def build_distiller(
    teacher: keras.Model,
    student: keras.Model,
    *,
    temperature: float = 4.0,
    student_loss_weight: float = 0.5,
) -> keras.distillation.Distiller:
    """A `keras.distillation.Distiller` from `teacher` to `student` on their logit views.

    The loss is `student_loss_weight * CE(labels, student) + (1 - student_loss_weight)
    * T**2 * KL(softmax(teacher / T) || softmax(student / T))` (`LogitsDistillation`
    with a `keras.losses.KLDivergence` instance: the string `"kl_divergence"` resolves
    to a plain function that `LogitsDistillation` applies to the logits without a
    softmax, Keras 3.15). Compile it with `compile_distiller`. `distiller.student` is
    the student's view; `student` itself is trained and stays usable on its own
    (`predict`, `save`, `convert_to_tflite`). The Distiller freezes the teacher: its
    layers are left with `trainable=False` (set `teacher.trainable = True` to train it
    again).

    Args:
        teacher: A trained classifier (softmax or logit output).
        student: The classifier to train, with the teacher's input and output shapes.
        temperature: Softmax temperature of the soft targets, > 0. Defaults to `4.0`.
        student_loss_weight: Weight of the label loss, in `[0, 1]`; the rest goes to
            the teacher's soft targets. Defaults to `0.5`.

    Example:

    ```python
    import keras
    from kerasopt.compress.distillation import build_distiller, compile_distiller

    distiller = build_distiller(teacher, student, temperature=4.0)
    compile_distiller(distiller, keras.optimizers.Adam(1e-3))
    distiller.fit(x_train, y_train, epochs=5)
    student.predict(x_test)  # the student itself was trained
    ```
    """
    for role, model in (("teacher", teacher), ("student", student)):
        if not isinstance(model, keras.Model):
            raise invalid_type(
                "build_distiller",
                f"{role} to be a keras.Model",
                f"{role}={type(model).__name__}",
                "Pass a built Functional or Sequential classifier.",
            )
    temperature = check_float(
        "build_distiller", "temperature", temperature, 0, closed="neither", example=4.0
    )
    student_loss_weight = check_fraction(
        "build_distiller", "student_loss_weight", student_loss_weight, example=0.5
    )
    if teacher.output_shape != student.output_shape:
        raise invalid_value(
            "build_distiller",
            "a student with the teacher's output shape",
            f"teacher output {teacher.output_shape}, student output {student.output_shape}",
            "Give the student the teacher's number of classes.",
        )
    return keras.distillation.Distiller(
        teacher=logits_view(teacher),
        student=logits_view(student),
        distillation_losses=keras.distillation.LogitsDistillation(
            temperature=temperature, loss=keras.losses.KLDivergence()
        ),
        student_loss_weight=student_loss_weight,
    )


def compile_distiller(
    distiller: keras.distillation.Distiller, optimizer="adam", **compile_kwargs
) -> None:
    """Compiles a `build_distiller` result: label loss on logits, accuracy metric.

    The student's view outputs logits, so the label loss is
    `SparseCategoricalCrossentropy(from_logits=True)` (equal to the probability model's
    own cross-entropy, since `softmax(log p) = p`).

    Args:
        distiller: What `build_distiller` returned.
        optimizer: An optimizer or its name. Defaults to `"adam"`.
        **compile_kwargs: More `compile` arguments (`steps_per_execution`,
            `run_eagerly`, ...).
    """
    distiller.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        **compile_kwargs,
    )


def check_single_output(model, owner: str) -> None:
    outputs = getattr(model, "outputs", None)
    if not outputs:
        raise invalid_value(
            owner,
            "a built Functional or Sequential model",
            f"model {model.name!r} without symbolic outputs (subclassed, or not built)",
            "Start it with keras.Input(shape), or rebuild it as keras.Model(inputs, outputs).",
        )
    if len(outputs) != 1:
        raise invalid_value(
            owner,
            "a classifier with one output",
            f"model {model.name!r} with {len(outputs)} outputs",
            "Distil one head: keras.Model(model.inputs, model.outputs[i]).",
        )
