"""The policy string parser, TOML tables and `build_policy`."""

import pytest

from kerasopt.augment import (
    AugmentationPolicy,
    MixUp,
    RandomAffine,
    RandomBrightness,
    RandomCropPad,
    RandomErasing,
    RandomFlip,
    RandomRot90,
    build_policy,
    parse_spec,
)

SPECS = [
    "flip(horizontal), rot90, crop_pad(2), brightness(0.2), mixup(alpha=0.2)",
    'flip(mode="horizontal_and_vertical", seed=7), affine(0.1, translation=0.05)',
    "erasing(rate=1, scale=[0.1, 0.2], fill_value=none), noise(0.03, value_range=(0, 1))",
    "cutout(0.5), rand_augment(num_ops=1, magnitude=0.2), cutmix(1.0, 10)",
    "contrast(0.1), saturation(0.2), hue(0.05), crop_pad(pad=1, fill_mode='symmetric')",
    "",
]


def test_parses_the_issue_example():
    ops = parse_spec("flip(horizontal), rot90, crop_pad(2), brightness(0.2), mixup(alpha=0.2)")
    assert ops == [
        RandomFlip("horizontal"),
        RandomRot90(),
        RandomCropPad(pad=2),
        RandomBrightness(0.2),
        MixUp(alpha=0.2),
    ]


def test_values_tuples_strings_booleans_and_none():
    (op,) = parse_spec("cutout(rate=1, scale=[0.1, 0.2], fill_value=None, value_range=(0, 1))")
    assert op == RandomErasing(rate=1.0, scale=(0.1, 0.2), fill_value=None, value_range=(0, 1))


@pytest.mark.parametrize("spec", SPECS, ids=range(len(SPECS)))
def test_spec_round_trips(spec):
    policy = AugmentationPolicy.from_spec(spec)
    again = AugmentationPolicy.from_spec(policy.to_spec())
    assert again == policy and again.to_spec() == policy.to_spec()
    assert AugmentationPolicy.from_config(policy.get_config()) == policy


@pytest.mark.parametrize(
    "spec, match",
    [
        (
            "fllip",
            r"Unknown augmentation op 'fllip'\. Did you mean 'flip'\?.*Valid ops: .*crop",
        ),
        ("crop_pad(padd=2)", r"argument 'padd' for op 'crop_pad'.*Did you mean 'pad'.*fill_mode"),
        ("rot90(1, 2)", r"'rot90' \(RandomRot90\) takes at most 1 arguments \(seed\)"),
        ("crop_pad(2, pad=3)", r"'crop_pad' got argument 'pad' twice"),
        ("flip(mode=vertical, 3)", r"positional arguments go first"),
        ("crop_pad(2", r"expected ',' or '\)' in the arguments of 'crop_pad', found the end"),
        ("flip,, rot90", r"expected a name, found ','"),
        ("__import__('os').system('ls')", r"Cannot read augmentation spec .* at character 16"),
        ("eval(1)", r"Unknown augmentation op 'eval'"),
        ("flip(horizontal) rot90", r"expected ','.*found 'rot90'"),
    ],
    ids=["op", "arg", "positional", "twice", "order", "unclosed", "empty", "code", "eval", "sep"],
)
def test_bad_specs_name_the_problem(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(spec)


def test_bad_value_reaches_the_op_check():
    with pytest.raises(
        ValueError,
        match=r"RandomFlip: expected mode to be one of.*Received: mode='vertcal'\. "
        r"Did you mean 'vertical'",
    ):
        parse_spec("flip(vertcal)")


def test_from_toml(tmp_path):
    path = tmp_path / "augment.toml"
    path.write_text(
        '[augment]\nseed = 3\nnum_classes = 10\nops = ["flip(horizontal)", '
        '{name = "crop_pad", pad = 2}, "brightness(0.1), mixup(alpha=0.2)"]\n'
        '[train.augment]\nops = "rot90, noise(0.01)"\n'
    )
    policy = AugmentationPolicy.from_toml(path)
    assert policy.seed == 3 and policy.num_classes == 10 and policy.soft_labels
    assert [op.name for op in policy] == ["flip", "crop_pad", "brightness", "mixup"]
    assert policy.ops[1].pad == 2 and policy.ops[3].num_classes == 10
    nested = AugmentationPolicy.from_toml(path, table="train.augment")
    assert nested.to_spec() == "rot90, noise(stddev=0.01)" and nested.seed == 0
    with pytest.raises(ValueError, match=r"no table \[aug\].*Tables there: \['augment', 'train'\]"):
        AugmentationPolicy.from_toml(path, table="aug")


def test_toml_table_errors(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[augment]\nops = [{pad = 2}]\n[other]\nops = []\nseeds = 1\n")
    with pytest.raises(ValueError, match=r"needs a 'name' key.*\{'pad': 2\}"):
        AugmentationPolicy.from_toml(path)
    with pytest.raises(ValueError, match=r"unknown keys \['seeds'\]. Valid keys: ops, seed"):
        AugmentationPolicy.from_toml(path, table="other")


def test_build_policy_accepts_every_form():
    assert build_policy(None) is None and build_policy("") is None and build_policy({}) is None
    legacy = build_policy({"rotation": 0.1, "translation": 0.05, "zoom": 0.0}, seed=4)
    assert legacy.ops == (RandomAffine(rotation=0.1, translation=0.05, zoom=0.0, seed=4),)
    from_dict = build_policy({"ops": ["flip", {"name": "rot90"}]}, seed=2)
    assert from_dict.seed == 2 and from_dict.to_spec() == "flip, rot90"
    from_list = build_policy([RandomFlip(), "rot90"], num_classes=3)
    assert from_list.to_spec() == "flip, rot90"
    policy = AugmentationPolicy(["mixup"], seed=1)
    assert build_policy(policy) is policy
    filled = build_policy(policy, num_classes=7)
    assert filled.ops[0].num_classes == 7 and filled.seed == 1
    assert build_policy(MixUp(), num_classes=4).ops[0] == MixUp(num_classes=4)


def test_build_policy_rejects_unknown_forms():
    with pytest.raises(
        ValueError, match=r"'ops'.*legacy RandomAffine keys.*\['rotation', 'shear'\]"
    ):
        build_policy({"rotation": 0.1, "shear": 0.2})
    with pytest.raises(TypeError, match=r"build_policy expects None.*Received: 3 \(int\)"):
        build_policy(3)
    with pytest.raises(TypeError, match=r"ops\[1\]=3 \(int\)"):
        AugmentationPolicy(["flip", 3])
