import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasopt.text.text_augment import (
    RandomTokenDeletion,
    RandomTokenInsertion,
    RandomTokenSwap,
    SynonymReplacement,
    TextAugmentation,
    synonym_map_from_words,
)

VOCAB = 60
SYNONYMS = {k: [VOCAB + k, VOCAB + 2 * k] for k in range(2, VOCAB, 2)}  # even ids only


def _batch(n=64, length=40, seed=0, dtype="int64"):
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, length), dtype=dtype)
    for row, size in enumerate(rng.integers(1, length + 1, size=n)):
        ids[row, :size] = rng.integers(2, VOCAB, size=size)
    return ids


def _ops(rate, seed=0):
    return {
        "swap": RandomTokenSwap(rate, seed=seed),
        "deletion": RandomTokenDeletion(rate, seed=seed),
        "insertion-vocab": RandomTokenInsertion(rate, vocab_size=VOCAB, seed=seed),
        "insertion-synonyms": RandomTokenInsertion(rate, synonym_map=SYNONYMS, seed=seed),
        "synonyms": SynonymReplacement(SYNONYMS, rate, seed=seed),
    }


OP_NAMES = list(_ops(0.1))


def _non_pad(ids):
    return (np.asarray(ids) != 0).sum(axis=1)


@pytest.mark.parametrize("name", OP_NAMES, ids=OP_NAMES)
def test_rate_zero_is_identity(name):
    ids = _batch()
    np.testing.assert_array_equal(_ops(0.0)[name](ids).numpy(), ids)


@pytest.mark.parametrize("name", OP_NAMES, ids=OP_NAMES)
def test_shape_dtype_padding_and_range_are_kept(name):
    ids = _batch()
    out = _ops(0.5)[name](ids).numpy()
    assert out.shape == ids.shape and out.dtype == ids.dtype
    assert not np.array_equal(out, ids)
    # Padding stays at the end: once a row has a 0, the rest of it is 0.
    assert np.all(np.cumsum(out == 0, axis=1)[:, -1] == (out.shape[1] - _non_pad(out)))
    assert np.all((out == 0) | (np.cumsum(out == 0, axis=1) == 0))
    assert out.min() >= 0 and out.max() < 3 * VOCAB
    assert np.all(_non_pad(out) >= 1)


@pytest.mark.parametrize("name", OP_NAMES, ids=OP_NAMES)
def test_same_seed_repeats_and_other_seed_differs(name):
    ids = _batch()
    first, again = _ops(0.3, seed=1)[name](ids).numpy(), _ops(0.3, seed=1)[name](ids).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, _ops(0.3, seed=2)[name](ids).numpy())


def test_dataset_map_is_deterministic_in_parallel_and_keeps_labels():
    ids, labels = _batch(), np.arange(64)
    augmentation = TextAugmentation(list(_ops(0.2).values()))

    def run():
        dataset = tf.data.Dataset.from_tensor_slices((ids, labels)).batch(16)
        dataset = dataset.map(augmentation, num_parallel_calls=4, deterministic=False)
        return sorted(
            ((y.numpy().tolist(), x.numpy().tolist()) for x, y in dataset), key=lambda p: p[0]
        )

    first = run()
    assert first == run()
    assert [label for batch, _ in first for label in batch] == labels.tolist()


def test_deletion_removes_about_rate_of_the_tokens():
    ids = _batch(n=256, seed=3)
    out = RandomTokenDeletion(0.3, seed=0)(ids).numpy()
    removed = 1 - _non_pad(out).sum() / _non_pad(ids).sum()
    assert 0.26 <= removed <= 0.34
    for before, after in zip(ids[:20], out[:20], strict=True):  # the kept tokens keep their order
        kept = iter(before[before != 0])
        assert all(token in kept for token in after[after != 0])


def test_swap_keeps_each_row_multiset():
    ids = _batch()
    out = RandomTokenSwap(0.5, seed=0)(ids).numpy()
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(ids, axis=1))
    moved = ((out != ids) & (ids != 0)).sum() / (ids != 0).sum()
    assert 0.3 <= moved <= 0.5


def test_synonym_replacement_only_puts_synonyms():
    ids = _batch()
    out = SynonymReplacement(SYNONYMS, rate=0.5, seed=0)(ids).numpy()
    changed = out != ids
    assert changed.any()
    for before, after in zip(ids[changed], out[changed], strict=True):
        assert after in SYNONYMS[before]
    odd = ids % 2 == 1  # odd ids have no synonyms
    np.testing.assert_array_equal(out[odd], ids[odd])


def test_insertion_keeps_the_original_tokens_in_order():
    ids = _batch()
    out = RandomTokenInsertion(0.3, synonym_map=SYNONYMS, seed=0)(ids).numpy()
    assert _non_pad(out).sum() > _non_pad(ids).sum()
    all_synonyms = {s for values in SYNONYMS.values() for s in values}
    for before, after in zip(ids, out, strict=True):
        tokens = list(after[after != 0])
        originals = iter(before[before != 0])
        inserted = [t for t in tokens if t >= VOCAB]
        assert set(inserted) <= all_synonyms
        assert all(token in originals for token in tokens if token < VOCAB)


def test_unbatched_rows_are_augmented_too():
    row = _batch(n=1)[0]
    out = RandomTokenSwap(0.5, seed=0)(row)
    assert out.shape == row.shape
    np.testing.assert_array_equal(np.sort(out.numpy()), np.sort(row))


@pytest.mark.parametrize("name", OP_NAMES, ids=OP_NAMES)
def test_config_round_trips_through_json(name):
    op = _ops(0.25, seed=7)[name]
    config = json.loads(json.dumps(op.get_config()))
    restored = type(op).from_config(config)
    assert restored.get_config() == op.get_config()
    ids = _batch()
    np.testing.assert_array_equal(restored(ids).numpy(), op(ids).numpy())


def test_text_augmentation_serializes_its_ops():
    augmentation = TextAugmentation([RandomTokenSwap(0.1, seed=3), SynonymReplacement({2: [5]})])
    config = json.loads(json.dumps(augmentation.get_config()))
    restored = TextAugmentation.from_config(config)
    assert [op.get_config() for op in restored.ops] == [op.get_config() for op in augmentation.ops]
    serialized = keras.saving.serialize_keras_object(augmentation)
    assert serialized["registered_name"] == "kerasopt>TextAugmentation"


def test_synonym_map_from_words_reports_unknown_words():
    vocabulary = ["", "[UNK]", "good", "great", "bad", "fine"]
    synonym_map, skipped = synonym_map_from_words(
        {"good": ["great", "superb", "good", "fine"], "awful": ["bad"], "bad": ["[UNK]"]},
        vocabulary,
    )
    assert synonym_map == {2: [3, 5]}
    assert skipped == ["superb", "awful", "[UNK]"]


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: RandomTokenSwap(1.5),
            ValueError,
            r"RandomTokenSwap: expected rate in \[0, 1\]\. Received: rate=1\.5",
        ),
        (
            lambda: RandomTokenDeletion(0.1, seed=1.5),
            TypeError,
            r"RandomTokenDeletion: expected seed to be an integer\. Received: seed=1\.5",
        ),
        (lambda: RandomTokenInsertion(0.1), ValueError, r"exactly one of vocab_size or synonym"),
        (
            lambda: RandomTokenInsertion(0.1, vocab_size=2),
            ValueError,
            r"RandomTokenInsertion: expected vocab_size >= 3\. Received: vocab_size=2",
        ),
        (
            lambda: SynonymReplacement({5: [0]}),
            ValueError,
            r"SynonymReplacement: expected synonym ids >= 2 .*Received: 5 -> \[0\]",
        ),
        (
            lambda: SynonymReplacement([5, 6]),
            TypeError,
            r"SynonymReplacement: expected synonym_map as a dict .*Received: list",
        ),
        (
            lambda: TextAugmentation([lambda x: x]),
            TypeError,
            r"TextAugmentation: expected token ops.*Received: <function",
        ),
        (
            lambda: RandomTokenSwap(0.1)(np.zeros((2, 3, 4), "int32")),
            ValueError,
            r"\[batch, length\] or \[length\]\. Received: shape \(2, 3, 4\)",
        ),
    ],
    ids=["rate", "seed", "insert-source", "insert-vocab", "synonym-id", "map-type", "op", "rank"],
)
def test_errors_name_the_value(make, error, match):
    with pytest.raises(error, match=match):
        make()
