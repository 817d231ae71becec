"""Sparsity schedules: values against TF-MOT's formulas, update steps, config round trips."""

import json

import keras
import pytest

from kerasopt.compress.sparsity_schedules import ConstantSparsity, PolynomialSparsity

SCHEDULES = [
    ConstantSparsity(0.8, begin_step=5, end_step=50, frequency=7),
    ConstantSparsity(0.5),
    PolynomialSparsity(0.1, 0.9, begin_step=10, end_step=110, power=2, frequency=20),
    PolynomialSparsity(0.0, 0.8, begin_step=0, end_step=41, frequency=4),
]
IDS = ["constant-window", "constant-default", "polynomial-power2", "polynomial-uneven-end"]


def assert_schedule_round_trips(schedule):
    """get_config/from_config and Keras (de)serialization through JSON give an equal schedule."""
    config = schedule.get_config()
    assert type(schedule).from_config(config).get_config() == config
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(schedule)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(schedule)
    assert restored.get_config() == config
    assert [restored(s) for s in range(0, 200, 9)] == [schedule(s) for s in range(0, 200, 9)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_schedule_round_trips_through_config_and_serialization(schedule):
    assert_schedule_round_trips(schedule)


@pytest.mark.parametrize("power", [1.0, 3.0], ids=["linear", "cubic"])
def test_polynomial_values_follow_tfmot_formula(power):
    initial, target, begin, end = 0.2, 0.9, 10, 60
    schedule = PolynomialSparsity(initial, target, begin, end, power=power, frequency=5)
    for step in range(0, 80):
        p = min(1.0, max(0.0, (step - begin) / (end - begin)))
        expected = (initial - target) * (1 - p) ** power + target
        assert schedule(step) == pytest.approx(expected, abs=1e-12)
    assert schedule(begin) == pytest.approx(initial)
    assert schedule(end) == pytest.approx(target) == schedule(end + 1000)


def test_polynomial_midpoint_matches_hand_value():
    # p = 0.5: 0.8 + (0 - 0.8) * 0.5**3 = 0.7
    assert PolynomialSparsity(0.0, 0.8, 0, 100)(50) == pytest.approx(0.7)


def test_constant_value_is_target_at_every_step():
    schedule = ConstantSparsity(0.75, begin_step=3, frequency=4)
    assert {schedule(s) for s in range(50)} == {0.75}


def test_update_steps_start_at_begin_repeat_every_frequency_and_stop_after_end():
    schedule = ConstantSparsity(0.5, begin_step=5, end_step=30, frequency=10)
    assert [s for s in range(60) if schedule.should_update(s)] == [5, 15, 25, 30]
    open_ended = ConstantSparsity(0.5, begin_step=0, frequency=25)
    assert [s for s in range(100) if open_ended.should_update(s)] == [0, 25, 50, 75]


def test_polynomial_updates_at_end_step_so_the_target_is_reached():
    schedule = PolynomialSparsity(0.0, 0.8, begin_step=0, end_step=41, frequency=4)
    updates = [s for s in range(100) if schedule.should_update(s)]
    assert updates[-1] == 41 and schedule(updates[-1]) == pytest.approx(0.8)
    assert updates[:3] == [0, 4, 8]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ConstantSparsity(1.0), r"0 <= target_sparsity < 1.*target_sparsity=1\.0"),
        (lambda: ConstantSparsity(-0.1), r"target_sparsity=-0\.1"),
        (lambda: ConstantSparsity(0.5, frequency=0), r"frequency to be an int >= 1.*=0"),
        (lambda: ConstantSparsity(0.5, begin_step=-1), r"begin_step to be an int >= 0.*=-1"),
        (lambda: ConstantSparsity(0.5, begin_step=10, end_step=5), r"end_step >= begin_step"),
        (lambda: ConstantSparsity(0.5, frequency=2.5), r"frequency=2\.5"),
        (lambda: PolynomialSparsity(0.0, 0.8, 10, 10), r"end_step > begin_step.*end_step=10"),
        (lambda: PolynomialSparsity(0.0, 0.8, 0, None), r"requires an end_step"),
        (lambda: PolynomialSparsity(0.0, 0.8, 0, 100, power=0), r"power > 0.*power=0"),
        (lambda: PolynomialSparsity(0.9, 1.5, 0, 100), r"target_sparsity=1\.5"),
    ],
    ids=[
        "target-one",
        "target-negative",
        "frequency-zero",
        "begin-negative",
        "end-before-begin",
        "frequency-float",
        "poly-empty-span",
        "poly-no-end",
        "poly-power-zero",
        "poly-target-too-big",
    ],
)
def test_invalid_schedule_arguments_name_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()
