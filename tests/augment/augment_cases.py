"""The catalogue of every augmentation op, and checks the augmentation tests share."""

import kerasopt.augment as aug
from kerasopt.augment.spec import parse_spec

# One entry per op with non-default arguments, so config round trips test real values.
ALL_OPS = [
    (aug.RandomFlip, {"mode": "vertical", "seed": 3}),
    (aug.RandomRot90, {"seed": 4}),
    (aug.RandomAffine, {"rotation": 0.1, "translation": 0.05, "zoom": 0.0, "seed": 5}),
    (aug.RandomCropPad, {"pad": 2, "fill_mode": "reflect"}),
    (aug.RandomBrightness, {"factor": 0.3, "value_range": (0, 16)}),
    (aug.RandomContrast, {"factor": 0.4}),
    (aug.RandomSaturation, {"factor": 0.5, "value_range": (0, 1)}),
    (aug.RandomHue, {"factor": 0.2}),
    (aug.GaussianNoise, {"stddev": 0.1, "value_range": (0, 16)}),
    (aug.RandomErasing, {"rate": 1.0, "scale": (0.1, 0.2), "fill_value": None}),
    (aug.MixUp, {"alpha": 0.4, "num_classes": 10}),
    (aug.CutMix, {"alpha": 0.5, "num_classes": 10}),
    (aug.RandAugment, {"num_ops": 1, "magnitude": 0.3}),
]
OP_IDS = [cls.__name__ for cls, _ in ALL_OPS]


def assert_op_round_trips(op):
    """get_config/from_config and to_spec/parse_spec both rebuild an equal op."""
    config = op.get_config()
    rebuilt = type(op).from_config(config)
    assert rebuilt == op and rebuilt.get_config() == config
    (parsed,) = parse_spec(op.to_spec())
    assert parsed == op, op.to_spec()
