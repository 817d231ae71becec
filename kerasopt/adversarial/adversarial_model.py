"""`AdversarialModel`: a Keras model wrapper that trains on clean plus adversarial inputs."""

from __future__ import annotations

import copy

import keras

from kerasopt.adversarial._arguments import ATTACKS, BUDGET_FIX, check_input_range
from kerasopt.adversarial._perturbation import fgsm_tensor, pgd_tensor
from kerasopt.core.errors import InvalidTypeError
from kerasopt.core.validation import check_fraction, check_option, check_positive_int, check_type


@keras.saving.register_keras_serializable(package="kerasopt")
class AdversarialModel(keras.Model):
    """Wraps a classifier so that `fit` trains it on clean and adversarial examples.

    Each training step first attacks the current weights: FGSM, or PGD with
    `pgd_steps` steps and a random start, on the batch, with the wrapped model in
    inference mode (no BatchNorm or dropout side effects), maximizing the compiled loss.
    Clean and adversarial batches then go through the model together (BatchNorm sees
    both) and the loss is `(1 - adversarial_weight) * loss(clean) +
    adversarial_weight * loss(adversarial)` (Goodfellow et al., 2015; with weight 1,
    Madry et al., 2018). Reported metrics are those of the clean half. Everything runs
    inside `train_step`, so `fit`, callbacks and `BackupAndRestore` work unchanged
    (TensorFlow backend).

    A wrapper subclass, rather than a function that rebuilds the model, keeps the
    Keras workflow: `compile` and `fit` as usual, and `call` delegates to the wrapped
    model, so `evaluate`, `predict` and the attacks see the plain model. The wrapped
    model shares its weights, so export `adversarial.model` (a plain functional model
    with no custom class) to `.keras` or TFLite. The wrapper itself saves and loads as
    a `.keras` file with all its settings.

    Args:
        model: The Keras classifier to train; it takes raw inputs and returns class
            probabilities (as `build_cnn` models do).
        attack: `"fgsm"` or `"pgd"`. Defaults to `"fgsm"`.
        epsilon: L∞ budget as a fraction of `input_range`, in [0, 1]. Defaults to
            `0.05`.
        adversarial_weight: Weight of the adversarial loss, in [0, 1]. Defaults to `0.5`.
        input_range: `(low, high)` of the raw inputs, e.g. `(0, 16)` for digits.
            Defaults to `(0.0, 1.0)`.
        pgd_steps: PGD steps per training step. Defaults to `7`.
        pgd_step_size: PGD step as a fraction of `input_range`, or `None` for
            `2.5 * epsilon / pgd_steps`. Defaults to `None`.
        seed: Seed of PGD's random start. Defaults to `None`.
        **kwargs: `keras.Model` arguments such as `name`.

    Example:

    ```python
    from kerasopt.adversarial import AdversarialModel
    from kerasopt.data import load_dataset
    from kerasopt.models import build_cnn

    data = load_dataset("digits")
    model = build_cnn(data.input_shape, 10, input_max=16)
    adversarial = AdversarialModel(model, epsilon=0.05, input_range=(0, 16))
    adversarial.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    adversarial.fit(data.x_train, data.y_train, epochs=2)
    model.save("robust.keras")  # the plain model, trained adversarially
    ```
    """

    def __init__(
        self,
        model,
        attack: str = "fgsm",
        epsilon: float = 0.05,
        adversarial_weight: float = 0.5,
        input_range: tuple[float, float] = (0.0, 1.0),
        pgd_steps: int = 7,
        pgd_step_size: float | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        caller = "AdversarialModel"
        if not isinstance(model, keras.Model):
            raise InvalidTypeError(
                f"{caller} expects model as a keras.Model (e.g. from build_cnn). Received: "
                f"model of type {type(model).__name__}."
            )
        super().__init__(**kwargs)
        self.model = model
        self.attack = check_option(caller, "attack", attack, ATTACKS)
        self.epsilon = check_fraction(caller, "epsilon", epsilon, fix=BUDGET_FIX)
        self.adversarial_weight = check_fraction(
            caller, "adversarial_weight", adversarial_weight, example=0.5
        )
        self.input_range = check_input_range(input_range, caller)
        self.pgd_steps = check_positive_int(caller, "pgd_steps", pgd_steps, example=10)
        self.pgd_step_size = (
            None
            if pgd_step_size is None
            else check_fraction(caller, "pgd_step_size", pgd_step_size, fix=BUDGET_FIX)
        )
        if seed is not None:
            check_type(caller, "seed", seed, int, expected="an int or None", fix="Pass seed=0.")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if attack == "pgd" else None
        # The wrapper owns no variables of its own beyond the wrapped model's.
        self.built = model.built

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def adversarial_examples(self, x, y):
        """Attacks the current weights on `(x, y)`; a graph-friendly tensor function."""
        import tensorflow as tf

        low, high = self.input_range
        span = high - low
        radius = self.epsilon * span

        def loss_fn(y_true, y_pred):
            return self.compute_loss(x=None, y=y_true, y_pred=y_pred, training=False)

        if self.attack == "fgsm":
            x_adv = fgsm_tensor(self.model, x, y, radius, low, high, loss_fn=loss_fn)
        else:
            fraction = self.pgd_step_size
            if fraction is None:
                fraction = 2.5 * self.epsilon / self.pgd_steps
            noise = keras.random.uniform(
                tf.shape(x), -radius, radius, dtype=x.dtype, seed=self.seed_generator
            )
            x_adv = pgd_tensor(
                self.model,
                x,
                y,
                radius,
                fraction * span,
                self.pgd_steps,
                low,
                high,
                noise=noise,
                loss_fn=loss_fn,
            )
        return tf.stop_gradient(x_adv)

    def train_step(self, data):
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (dict, list, tuple)):
            raise InvalidTypeError(
                "AdversarialModel trains models with a single input tensor. Received: x of "
                f"type {type(x).__name__}. Wrap a model that takes one input."
            )
        x = tf.cast(x, "float32")
        x_adv = self.adversarial_examples(x, y)
        weight = self.adversarial_weight
        with tf.GradientTape() as tape:
            y_pred = self(tf.concat([x, x_adv], axis=0), training=True)
            clean_pred, adversarial_pred = tf.split(y_pred, 2, axis=0)
            # Each term carries the regularization losses once; the weights sum to 1.
            loss = (1.0 - weight) * self.compute_loss(
                x=x, y=y, y_pred=clean_pred, sample_weight=sample_weight, training=True
            ) + weight * self.compute_loss(
                x=x_adv, y=y, y_pred=adversarial_pred, sample_weight=sample_weight, training=True
            )
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tf.shape(x)[0])
        return self.compute_metrics(x, y, clean_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "model": keras.saving.serialize_keras_object(self.model),
                "attack": self.attack,
                "epsilon": self.epsilon,
                "adversarial_weight": self.adversarial_weight,
                "input_range": list(self.input_range),
                "pgd_steps": self.pgd_steps,
                "pgd_step_size": self.pgd_step_size,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        # Deserializing a functional model consumes parts of its config dict.
        config["model"] = keras.saving.deserialize_keras_object(
            copy.deepcopy(config["model"]), custom_objects=custom_objects
        )
        return cls(**config)

    # Read-only views of the wrapped model, so code written for functional models
    # (kerasopt.training.train checks `inputs` and `output_shape`) accepts the wrapper.
    @property
    def inputs(self):
        return self.model.inputs

    @property
    def outputs(self):
        return self.model.outputs

    @property
    def output_shape(self):
        return self.model.output_shape
