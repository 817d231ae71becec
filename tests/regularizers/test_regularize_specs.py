"""Spec strings turn into the right Keras regularizers and constraints, safely."""

import keras
import pytest

from kerasopt.regularizers import parse_constraint, parse_regularizer

REGULARIZER_SPECS = [
    ("l2", keras.regularizers.L2, {"l2": 0.01}),
    ("l2(1e-4)", keras.regularizers.L2, {"l2": 1e-4}),
    ("l1(1e-5)", keras.regularizers.L1, {"l1": 1e-5}),
    ("l1_l2(l1=1e-5, l2=1e-4)", keras.regularizers.L1L2, {"l1": 1e-5, "l2": 1e-4}),
    ("L1L2(1e-5, 1e-4)", keras.regularizers.L1L2, {"l1": 1e-5, "l2": 1e-4}),
    ("orthogonal(0.01)", keras.regularizers.OrthogonalRegularizer, {"mode": "rows"}),
    (
        "orthogonal(0.5, mode='columns')",
        keras.regularizers.OrthogonalRegularizer,
        {"factor": 0.5, "mode": "columns"},
    ),
]
CONSTRAINT_SPECS = [
    ("max_norm(3)", keras.constraints.MaxNorm, {"max_value": 3, "axis": 0}),
    ("max_norm(2, axis=[0, 1, 2])", keras.constraints.MaxNorm, {"axis": [0, 1, 2]}),
    ("MinMaxNorm(0.5, 2)", keras.constraints.MinMaxNorm, {"min_value": 0.5, "max_value": 2}),
    ("unit_norm", keras.constraints.UnitNorm, {"axis": 0}),
    ("non_neg", keras.constraints.NonNeg, {}),
]


@pytest.mark.parametrize(
    "spec, cls, expected", REGULARIZER_SPECS, ids=[s for s, _, _ in REGULARIZER_SPECS]
)
def test_regularizer_specs(spec, cls, expected):
    regularizer = parse_regularizer(spec)
    assert type(regularizer) is cls
    config = regularizer.get_config()
    for key, value in expected.items():
        assert config[key] == pytest.approx(value)


@pytest.mark.parametrize(
    "spec, cls, expected", CONSTRAINT_SPECS, ids=[s for s, _, _ in CONSTRAINT_SPECS]
)
def test_constraint_specs(spec, cls, expected):
    constraint = parse_constraint(spec)
    assert type(constraint) is cls
    config = constraint.get_config()
    for key, value in expected.items():
        assert config[key] == value


def test_objects_dicts_and_none_pass_through():
    l2 = keras.regularizers.L2(0.3)
    assert parse_regularizer(l2) is l2
    assert parse_regularizer(None) is None
    restored = parse_regularizer(keras.regularizers.serialize(l2))
    assert restored.get_config() == pytest.approx(l2.get_config())
    assert type(parse_constraint(keras.constraints.NonNeg())) is keras.constraints.NonNeg


BAD_REGULARIZERS = [
    ("l3(1e-4)", r"Unknown regularizer 'l3'.*Did you mean 'l[12]'\?"),
    ("orthgonal(0.1)", r"Did you mean 'orthogonal'\?"),
    ("max_norm(3)", r"names a constraint.*kernel_constraint='max_norm\(3\)'"),
    ("l2(__import__('os').getcwd())", r"must be numbers, strings or lists"),
    ("l2(1e-4", r"Could not parse kernel_regularizer.*Received: kernel_regularizer='l2\(1e-4'"),
    ("l2(1e-4, 2)", r"l2 takes at most 1 positional argument"),
    ("l1_l2(l3=1)", r"l1_l2 has no parameter\(s\) \['l3'\]. Valid parameters: \['l1', 'l2'\]"),
    ("l2(-1)", r"Could not build kernel_regularizer from 'l2\(-1\)'"),
    ("l2(x)", r"must be numbers"),
    ("os.system('x')", r"Could not parse kernel_regularizer"),
]


@pytest.mark.parametrize("spec, message", BAD_REGULARIZERS, ids=[s for s, _ in BAD_REGULARIZERS])
def test_bad_regularizer_specs_raise(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_regularizer(spec)


def test_bad_constraint_specs_raise():
    with pytest.raises(ValueError, match=r"Unknown constraint 'max_nrom'.*'max_norm'"):
        parse_constraint("max_nrom(3)")
    with pytest.raises(ValueError, match=r"names a regularizer.*kernel_regularizer='l2'"):
        parse_constraint("l2")


def test_non_keras_objects_raise_type_error():
    with pytest.raises(TypeError, match=r"Received: kernel_regularizer=0.1 \(float\)"):
        parse_regularizer(0.1)
    with pytest.raises(TypeError, match=r"Plain functions are refused"):
        parse_regularizer(lambda w: 0.0)
    with pytest.raises(TypeError, match=r"keras.constraints.Constraint.*'max_norm\(3\)'"):
        parse_constraint(3)


def test_spec_text_is_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        parse_regularizer("l2(open('pwned', 'w'))")
    assert not (tmp_path / "pwned").exists()
