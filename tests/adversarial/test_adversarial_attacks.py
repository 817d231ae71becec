"""`fgsm`, `pgd` and `robustness_curve` on the shared trained digits model."""

import numpy as np
import pytest

from kerasopt.adversarial import fgsm, pgd, robustness_curve

RANGE = (0.0, 16.0)


def _loss(model, x, y):
    import keras

    probabilities = model.predict(x, verbose=0)
    return keras.ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(y, probabilities)
    )


def _accuracy(model, x, y):
    return float(np.mean(model.predict(x, verbose=0).argmax(-1) == y))


def test_fgsm_moves_every_unclipped_pixel_by_epsilon_and_raises_the_loss(
    trained_digits_model, digits
):
    x, y = digits.x_test, digits.y_test
    x_adv = fgsm(trained_digits_model, x, y, 0.05, input_range=RANGE)
    delta = np.abs(x_adv - x)
    unclipped = (x_adv > RANGE[0]) & (x_adv < RANGE[1])
    np.testing.assert_allclose(delta[unclipped], 0.05 * 16, rtol=1e-5)
    assert delta.max() == pytest.approx(0.8, rel=1e-5)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 16.0
    loss, adversarial_loss = (
        _loss(trained_digits_model, x, y),
        _loss(trained_digits_model, x_adv, y),
    )
    assert adversarial_loss.mean() > 1.5 * loss.mean()
    assert np.mean(adversarial_loss >= loss) > 0.95


def test_epsilon_is_a_fraction_of_the_input_range(trained_digits_model, digits):
    import keras

    # The same network fed MNIST-scale pixels: 0..255 rescaled to the digits' 0..16.
    inputs = keras.Input(digits.input_shape)
    on_255 = keras.Model(inputs, trained_digits_model(keras.layers.Rescaling(16 / 255)(inputs)))
    x, y = digits.x_test[:100], digits.y_test[:100]
    on_16 = fgsm(trained_digits_model, x, y, 0.05, input_range=(0, 16))
    on_255_adv = fgsm(on_255, x * 255 / 16, y, 0.05, input_range=(0, 255))
    assert np.mean(np.isclose(on_255_adv * 16 / 255, on_16, atol=1e-3)) > 0.99


def test_zero_epsilon_returns_the_inputs(trained_digits_model, digits):
    x, y = digits.x_test[:10], digits.y_test[:10]
    np.testing.assert_array_equal(fgsm(trained_digits_model, x, y, 0, input_range=RANGE), x)
    np.testing.assert_array_equal(pgd(trained_digits_model, x, y, 0.0, input_range=RANGE), x)


def test_pgd_stays_in_the_ball_and_beats_fgsm(trained_digits_model, digits):
    x, y = digits.x_test, digits.y_test
    x_pgd = pgd(trained_digits_model, x, y, 0.05, input_range=RANGE, steps=10, seed=0)
    assert np.abs(x_pgd - x).max() <= 0.8 * (1 + 1e-5)
    assert x_pgd.min() >= 0.0 and x_pgd.max() <= 16.0
    x_fgsm = fgsm(trained_digits_model, x, y, 0.05, input_range=RANGE)
    assert _accuracy(trained_digits_model, x_pgd, y) <= _accuracy(trained_digits_model, x_fgsm, y)
    again = pgd(trained_digits_model, x, y, 0.05, input_range=RANGE, steps=10, seed=0)
    np.testing.assert_array_equal(x_pgd, again)


def test_one_pgd_step_without_random_start_is_fgsm(trained_digits_model, digits):
    x, y = digits.x_test[:64], digits.y_test[:64]
    one_step = pgd(
        trained_digits_model,
        x,
        y,
        0.03,
        steps=1,
        step_size=0.03,
        random_start=False,
        input_range=RANGE,
    )
    np.testing.assert_allclose(one_step, fgsm(trained_digits_model, x, y, 0.03, input_range=RANGE))


def test_robustness_curve(trained_digits_model, digits):
    x, y = digits.x_test, digits.y_test
    curve = robustness_curve(trained_digits_model, x, y, (0, 0.02, 0.05, 0.1), input_range=RANGE)
    assert [point["epsilon"] for point in curve] == [0.0, 0.02, 0.05, 0.1]
    accuracies = [point["accuracy"] for point in curve]
    clean = _accuracy(trained_digits_model, x, y)
    assert accuracies[0] == clean
    assert all(later <= earlier for earlier, later in zip(accuracies, accuracies[1:], strict=False))
    assert accuracies[-1] < clean - 0.1
    strong = robustness_curve(
        trained_digits_model, x, y, (0.05,), attack="pgd", input_range=RANGE, steps=5, seed=0
    )
    assert strong[0]["accuracy"] <= curve[2]["accuracy"]


X = np.zeros((4, 8, 8), "float32")
Y = np.zeros(4, "int64")
ERRORS = {
    "epsilon_above_one": (
        lambda m: fgsm(m, X, Y, 8, input_range=RANGE),
        ValueError,
        r"fgsm: expected epsilon in \[0, 1\]\. Received: epsilon=8\. Budgets are fractions of "
        r"the input range.*pass 8/255",
    ),
    "negative_epsilon": (lambda m: pgd(m, X, Y, -0.1), ValueError, r"Received: epsilon=-0.1"),
    "bool_epsilon": (lambda m: fgsm(m, X, Y, True), ValueError, r"Received: epsilon=True"),
    "step_size": (
        lambda m: pgd(m, X, Y, 0.1, step_size=2.0),
        ValueError,
        r"pgd: expected step_size in \[0, 1\]\. Received: step_size=2\.0",
    ),
    "steps": (
        lambda m: pgd(m, X, Y, 0.1, steps=0),
        ValueError,
        r"pgd: expected steps to be an integer >= 1\. Received: steps=0",
    ),
    "reversed_range": (
        lambda m: fgsm(m, X, Y, 0.1, input_range=(16, 0)),
        ValueError,
        r"fgsm: expected input_range=\(low, high\) with low < high\. "
        r"Received: input_range=\(16, 0\)",
    ),
    "inputs_outside_default_range": (
        lambda m: fgsm(m, X + 16, Y, 0.1),
        ValueError,
        r"inputs inside input_range=\(0.0, 1.0\)\. Received: x has values in \[16, 16\].*"
        r"input_range=\(0, 16\)",
    ),
    "mismatched_lengths": (
        lambda m: fgsm(m, X, Y[:3], 0.1, input_range=RANGE),
        ValueError,
        r"len\(x\)=4 and len\(y\)=3",
    ),
    "one_hot_labels": (
        lambda m: fgsm(m, X, np.eye(10)[:4], 0.1, input_range=RANGE),
        ValueError,
        r"look one-hot: pass y.argmax\(axis=-1\)",
    ),
    "unknown_attack": (
        lambda m: robustness_curve(m, X, Y, attack="cw", input_range=RANGE),
        ValueError,
        r"attack to be one of 'fgsm', 'pgd'\. Received: attack='cw'",
    ),
    "fgsm_with_pgd_arguments": (
        lambda m: robustness_curve(m, X, Y, input_range=RANGE, steps=3),
        TypeError,
        r"attack='fgsm' got unknown arguments \['steps'\]",
    ),
    "empty_epsilons": (
        lambda m: robustness_curve(m, X, Y, (), input_range=RANGE),
        ValueError,
        r"non-empty sequence of epsilons. Received: epsilons=\(\)",
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_errors(case, trained_digits_model):
    call, error, match = case
    with pytest.raises(error, match=match):
        call(trained_digits_model)
