"""Distillation through keras.distillation: logit views, the Distiller, width students."""

import keras
import numpy as np
import pytest
from small_models import USER_SHAPED_MODELS, image_classification_data, residual_cnn

from kerasopt.compress.distill_student import default_distill_epochs, distill
from kerasopt.compress.distillation import (
    LogProbabilities,
    build_distiller,
    compile_distiller,
    logits_view,
    output_kind,
)
from kerasopt.compress.native_magnitude_pruning import pruning_masks
from kerasopt.compress.native_pruning import prepare_for_pruning
from kerasopt.compress.width_student import pruned_student, width_student
from kerasopt.core.errors import InvalidValueError
from kerasopt.models import build_cnn


@pytest.fixture(scope="module")
def teacher():
    keras.utils.set_random_seed(0)
    model = build_cnn((8, 8), 10, input_max=16, filters=(16, 32), dense_units=32, dropout=0.0)
    # Sharper than a fresh model's near-uniform outputs, so the softening is visible.
    head = model.get_layer("probabilities")
    head.kernel.assign(head.kernel * 100.0)
    return model


@pytest.fixture(scope="module")
def samples():
    return image_classification_data(n=64)


def test_view_outputs_log_probabilities_and_shares_layers(teacher, samples):
    x, _ = samples
    view = logits_view(teacher)
    probabilities = teacher.predict(x, verbose=0)
    np.testing.assert_allclose(
        view.predict(x, verbose=0), np.log(np.clip(probabilities, 1e-12, 1)), atol=1e-5
    )
    assert view.get_layer("block0_conv0") is teacher.get_layer("block0_conv0")


@pytest.mark.parametrize("temperature", [1.0, 4.0], ids=["T1", "T4"])
def test_softened_view_is_the_renormalized_power_of_the_probabilities(
    teacher, samples, temperature
):
    x, _ = samples
    p = teacher.predict(x, verbose=0).astype("float64")
    softened = keras.ops.convert_to_numpy(
        keras.ops.softmax(logits_view(teacher).predict(x, verbose=0) / temperature)
    )
    expected = p ** (1 / temperature)
    np.testing.assert_allclose(softened, expected / expected.sum(-1, keepdims=True), atol=1e-4)
    if temperature > 1:  # the teacher is sharp enough for the softening to show
        assert np.abs(softened - p).max() > 0.1


def test_logit_model_is_its_own_view():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    assert logits_view(model) is model


def _mixture(second_activation):
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3, activation="softmax")(inputs)
    b = keras.layers.Dense(3, activation=second_activation)(inputs)
    return keras.Model(inputs, keras.layers.Average()([a, b]), name="mixture")


def test_an_average_of_probabilities_is_probabilities_and_of_logits_is_refused():
    # An ensemble's averaged members are a distillation teacher like a softmax model.
    assert output_kind(_mixture("softmax")) == "probabilities"
    assert logits_view(_mixture("softmax")).layers[-1].__class__ is LogProbabilities
    with pytest.raises(InvalidValueError, match="ending in Average"):
        output_kind(_mixture("relu"))


def test_distiller_step_trains_the_student_and_not_the_teacher(teacher, samples):
    x, y = samples
    student = width_student(teacher, 0.5)
    before_teacher = [w.copy() for w in teacher.get_weights()]
    conv = student.get_layer("block0_conv0")
    before_student = keras.ops.convert_to_numpy(conv.kernel).copy()
    distiller = build_distiller(teacher, student, temperature=4.0)
    # Eager: tracing the Distiller's step costs seconds; `distill` runs it compiled.
    compile_distiller(distiller, keras.optimizers.Adam(1e-2), run_eagerly=True)
    history = distiller.fit(x, y, batch_size=32, epochs=1, verbose=0)
    # Keras resolves the string "kl_divergence" to a function applied to raw logits,
    # which clips log-probabilities to a constant: the loss would be exactly 0.
    assert history.history["distillation_loss"][0] > 0.01
    for old, new in zip(before_teacher, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert not np.array_equal(before_student, keras.ops.convert_to_numpy(conv.kernel))
    assert student.predict(x[:2], verbose=0).sum(-1) == pytest.approx([1, 1], abs=1e-5)
    teacher.trainable = True  # the Distiller froze it; the module fixture is shared


def test_pruning_callback_finds_the_students_masks_through_the_distiller(teacher):
    student = prepare_for_pruning(width_student(teacher, 0.5))
    distiller = build_distiller(teacher, student)
    found = [layer for layer, _ in pruning_masks(distiller)]
    assert found == [layer for layer, _ in pruning_masks(student)]
    assert len(found) == 6
    teacher.trainable = True


def test_log_probabilities_round_trips(tmp_path, samples):
    x, _ = samples
    layer = LogProbabilities(epsilon=1e-9, name="lp")
    assert LogProbabilities.from_config(layer.get_config()).epsilon == 1e-9
    model = logits_view(residual_cnn())
    model.save(tmp_path / "view.keras")
    loaded = keras.saving.load_model(tmp_path / "view.keras")
    assert isinstance(loaded.layers[-1], LogProbabilities)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_width_student_halves_filters_and_keeps_the_classifier(teacher):
    student = width_student(teacher, 0.5)
    widths = {
        layer.name: getattr(layer, "filters", getattr(layer, "units", None))
        for layer in student.layers
    }
    assert (widths["block0_conv0"], widths["block1_conv1"], widths["dense"]) == (8, 16, 16)
    assert widths["probabilities"] == 10
    assert student.name == "cnn_student"
    sequential = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8), keras.layers.Dense(4), keras.layers.Softmax()]
    )
    thin = width_student(sequential, 0.25)
    assert [layer.units for layer in thin.layers[:2]] == [2, 4]  # the head seen through Softmax


@pytest.mark.parametrize("width", [0.5, 0.3], ids=["half", "odd"])
def test_width_student_keeps_residual_add_shapes_equal(width):
    student = width_student(residual_cnn(filters=16), width)
    channels = round(16 * width)
    add = student.get_layer("residual_add")
    assert [tuple(t.shape) for t in add.input] == [(None, 8, 8, channels)] * 2
    assert student.get_layer("stem_bn").gamma.shape == (channels,)
    assert student.output_shape == (None, 10)


@pytest.mark.parametrize("build", USER_SHAPED_MODELS.values(), ids=USER_SHAPED_MODELS.keys())
def test_width_student_rebuilds_user_shaped_models(build):
    teacher = build()
    student = width_student(teacher, 0.5)
    assert student.output_shape == teacher.output_shape
    assert student.count_params() < teacher.count_params() / 2


def test_refuses_models_it_cannot_distil(teacher, digits):
    inputs = keras.Input((4,))
    two_heads = keras.Model(
        inputs, [keras.layers.Dense(3, "softmax")(inputs), keras.layers.Dense(2)(inputs)]
    )
    with pytest.raises(InvalidValueError, match="with 2 outputs"):
        logits_view(two_heads)
    sigmoid = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "sigmoid")])
    with pytest.raises(InvalidValueError, match=r"ending in Dense .*activation='sigmoid'"):
        logits_view(sigmoid)
    with pytest.raises(InvalidValueError, match=r"width in \(0, 1\]. Received: width=0"):
        width_student(teacher, 0)
    five_classes = build_cnn((8, 8), 5, input_max=16, filters=(4,), dense_units=4)
    with pytest.raises(InvalidValueError, match="teacher output .* student output"):
        build_distiller(teacher, five_classes)
    with pytest.raises(
        InvalidValueError, match=r"expected student in \(0, 1\]. Received: student=1.5"
    ):
        distill(teacher, digits, student=1.5)
    with pytest.raises(InvalidValueError, match="expected epochs to be an integer >= 1"):
        distill(teacher, digits, epochs=0)


def test_default_epochs_give_a_small_student_a_few_thousand_steps():
    assert default_distill_epochs(1293) == 59  # digits: 41 steps per epoch
    assert default_distill_epochs(54_000) == 20  # Fashion-MNIST: 1,688 steps per epoch
    assert default_distill_epochs(1293, batch_size=128) == 219  # 11 steps per epoch


def test_pruned_student_keeps_the_teachers_strongest_channels(teacher):
    student = pruned_student(teacher, 0.5)
    fresh = width_student(teacher, 0.5)
    assert [tuple(w.shape) for w in student.weights] == [tuple(w.shape) for w in fresh.weights]
    assert student.name == "cnn_student"
    kernel = teacher.get_layer("block0_conv0").kernel.numpy()
    strongest = np.sort(np.argsort(-np.abs(kernel).sum(axis=(0, 1, 2)), kind="stable")[:8])
    np.testing.assert_array_equal(
        student.get_layer("block0_conv0").kernel.numpy(), kernel[..., strongest]
    )
    head = teacher.get_layer("probabilities").kernel.numpy()
    assert student.get_layer("probabilities").kernel.shape[-1] == head.shape[-1]
    copy = pruned_student(teacher, 1.0)
    for ours, theirs in zip(copy.get_weights(), teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("build", USER_SHAPED_MODELS.values(), ids=USER_SHAPED_MODELS.keys())
def test_pruned_student_thins_user_shaped_models(build):
    teacher = build()
    student = pruned_student(teacher, 0.5)
    assert student.output_shape == teacher.output_shape
    # Half the filters; a depthwise-separable block's depthwise weights shrink linearly.
    assert student.count_params() < 0.6 * teacher.count_params()


def test_a_teacher_whose_channels_cannot_be_followed_starts_fresh_with_a_warning(digits):
    keras.utils.set_random_seed(0)
    teacher = keras.Sequential(
        [
            keras.Input((8, 8)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, name="hidden"),
            keras.layers.Softmax(name="mixing"),  # mixes the channels
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    with pytest.raises(
        InvalidValueError,
        match=r"pruned_student: .*'mixing' .*\(distill\(\.\.\., init='random'\)\)\.$",
    ):
        pruned_student(teacher, 0.5)
    with pytest.warns(UserWarning, match="the student starts from fresh weights"):
        report = distill(teacher, digits, epochs=1, baseline=False)
    assert report.settings["init"] == "random"
    assert report.student.params == width_student(teacher, 0.25).count_params()
    with pytest.raises(InvalidValueError, match=r"init in \['teacher', 'random'\]"):
        distill(teacher, digits, init="zeros")
