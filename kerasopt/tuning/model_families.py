"""`ModelFamily`: the model a search builds, and the names of what it can tune."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import did_you_mean
from kerasopt.tuning.search_space import SpecError

#: What every family can tune besides its architecture: the training recipe.
TRAINING_HYPERPARAMETERS = {
    "optimizer": "optimizer name: adam, adamw, sgd, rmsprop, nadam, radam, adabound",
    "learning_rate": "peak learning rate",
    "clipnorm": "clip each gradient tensor to this L2 norm",
    "lr_schedule": "constant, cosine, warmup_cosine, exponential or one_cycle",
    "warmup_fraction": "fraction of the steps spent warming up (warmup_cosine)",
    "batch_size": "samples per step",
    "weight_decay": "decoupled weight decay (adamw, lion, sgd)",
    "label_smoothing": "label smoothing of the cross-entropy",
    "augment_strength": "scales the recipe's affine augmentation; 0 turns it off",
    "prune_sparsity": "final sparsity of native magnitude pruning during the trial; 0 = dense",
}


@dataclasses.dataclass(frozen=True)
class ModelFamily:
    """A model builder and the architecture hyperparameters it accepts.

    Args:
        name: The `model = "..."` of a spec.
        build: `build(inputs, values) -> keras.Model` (uncompiled) for `ModelInputs` and
            a value for every name in `defaults`.
        defaults: Every architecture hyperparameter with its default value.
        descriptions: One line per architecture hyperparameter.
    """

    name: str
    build: Callable
    defaults: dict
    descriptions: dict

    def tunable(self) -> dict[str, str]:
        """Every name a `[space]`, `[model]` or `[train]` entry may use, described."""
        return {**self.descriptions, **TRAINING_HYPERPARAMETERS}


@dataclasses.dataclass(frozen=True)
class ModelInputs:
    """What a family builder needs to know about the data.

    Args:
        name: Dataset name, used in the model's name.
        input_shape: Shape of one raw sample.
        num_classes: Number of classes.
        input_max: Largest raw input value, which the model's `Rescaling` divides by.
        vocab_size: For token ids: the largest id of any split + 1. Defaults to `None`.
        idf_weights: For token ids: each id's inverse document frequency in the training
            split (the TF-IDF model's weights). Defaults to `None`.
    """

    name: str
    input_shape: tuple
    num_classes: int
    input_max: float
    vocab_size: int | None = None
    idf_weights: np.ndarray | None = None

    @classmethod
    def of(cls, data) -> ModelInputs:
        """The inputs of a `DatasetSplits` (images, features, or token ids)."""
        largest = float(np.max(data.x_train))
        inputs = cls(data.name, data.input_shape, data.num_classes, largest if largest > 0 else 1.0)
        if np.issubdtype(data.x_train.dtype, np.integer) and data.x_train.ndim == 2:
            from kerasopt.text.tokenized_text import idf_from_ids

            vocab = 1 + int(max(np.max(data.x_train), np.max(data.x_val), np.max(data.x_test)))
            idf = idf_from_ids(data.x_train, vocab)
            inputs = dataclasses.replace(inputs, vocab_size=vocab, idf_weights=idf)
        return inputs


def _build_cnn(data, values: dict):
    from kerasopt.models import build_cnn

    side = min(data.input_shape[:2])
    blocks = int(values["blocks"])
    if side // 2**blocks < 1:
        raise InvalidValueError(
            f"blocks={blocks} pools a {side}x{side} input below 1x1; at most "
            f"{int(np.log2(side))} blocks fit this input."
        )
    filters = tuple(int(values["filters"]) * 2**block for block in range(blocks))
    return build_cnn(
        data.input_shape,
        data.num_classes,
        input_max=data.input_max,
        filters=filters,
        convs_per_block=int(values["convs_per_block"]),
        dense_units=int(values["dense_units"]),
        dropout=float(values["dropout"]),
        batch_norm=bool(values["batch_norm"]),
        bn_momentum=float(values["bn_momentum"]),
        l2=float(values["l2"]),
        name=f"{data.name}_cnn",
    )


def _build_residual(data, values: dict):
    from kerasopt.models import build_residual_cnn

    stages = int(values["stages"])
    widths = tuple(int(values["width"]) * 2**stage for stage in range(stages + 1))
    return build_residual_cnn(
        data.input_shape,
        data.num_classes,
        input_max=data.input_max,
        widths=widths,
        stem_convs=int(values["stem_convs"]),
        dropout=float(values["dropout"]),
        l2=float(values["l2"]),
        bn_momentum=float(values["bn_momentum"]),
        head=str(values["head"]),
        block=str(values["block"]),
        name=f"{data.name}_residual",
    )


def _build_dense(data, values: dict):
    from kerasopt.models import build_dense_classifier

    return build_dense_classifier(
        data.input_shape,
        data.num_classes,
        input_max=data.input_max,
        units=int(values["units"]),
        layers=int(values["layers"]),
        dropout=float(values["dropout"]),
        l2=float(values["l2"]),
        name=f"{data.name}_dense",
    )


def _build_text(data, values: dict):
    from kerasopt.text.text_models import build_text_model

    if data.vocab_size is None:
        raise InvalidValueError(
            f"model='text' needs token ids; dataset {data.name!r} holds {data.input_shape} "
            "samples of another kind. Use data = 'imdb' with --data aclImdb/ or imdb.npz."
        )
    family = str(values["family"])
    return build_text_model(
        family,
        data.vocab_size,
        int(data.input_shape[0]),
        num_classes=data.num_classes,
        embedding_dim=int(values["embedding_dim"]),
        units=int(values["units"]),
        dropout=float(values["dropout"]),
        l2=float(values["l2"]),
        idf_weights=data.idf_weights if family == "tfidf" else None,
        name=f"{data.name}_{family}",
    )


MODEL_FAMILIES: dict[str, ModelFamily] = {
    "cnn": ModelFamily(
        name="cnn",
        build=_build_cnn,
        defaults={
            "filters": 32,
            "blocks": 2,
            "convs_per_block": 2,
            "dense_units": 128,
            "dropout": 0.3,
            "batch_norm": True,
            "bn_momentum": 0.99,
            "l2": 1e-4,
        },
        descriptions={
            "filters": "filters of the first conv block; each later block doubles them",
            "blocks": "conv blocks, each ending in 2x2 max pooling",
            "convs_per_block": "Conv2D layers per block",
            "dense_units": "units of the hidden dense layer",
            "dropout": "dropout before and after the hidden dense layer",
            "batch_norm": "BatchNormalization after each conv",
            "bn_momentum": "momentum of the BatchNorm moving statistics",
            "l2": "L2 weight decay on conv and dense kernels",
        },
    ),
    "residual": ModelFamily(
        name="residual",
        build=_build_residual,
        defaults={
            "width": 20,
            "stages": 2,
            "stem_convs": 1,
            "dropout": 0.2,
            "l2": 0.0,
            "bn_momentum": 0.99,
            "head": "pool",
            "block": "conv",
        },
        descriptions={
            "width": "filters of the stem; each pooled stage doubles them",
            "stages": "pooled residual stages after the stem",
            "stem_convs": "Conv2D layers of the full-resolution stem",
            "dropout": "dropout before the classifier",
            "l2": "L2 weight decay on the kernels",
            "bn_momentum": "momentum of the BatchNorm moving statistics (0.9 for short trials)",
            "head": "'pool' (global average) or 'flatten' before the classifier",
            "block": "'conv' (3x3 convolutions) or 'separable' (depthwise + 1x1) in the stages",
        },
    ),
    "dense": ModelFamily(
        name="dense",
        build=_build_dense,
        defaults={"units": 64, "layers": 1, "dropout": 0.2, "l2": 0.0},
        descriptions={
            "units": "units of each hidden dense layer",
            "layers": "hidden dense layers",
            "dropout": "dropout after each hidden layer",
            "l2": "L2 weight decay on the kernels",
        },
    ),
    "text": ModelFamily(
        name="text",
        build=_build_text,
        defaults={"family": "bow", "embedding_dim": 64, "units": 64, "dropout": 0.5, "l2": 1e-4},
        descriptions={
            "family": "bow, tfidf, cnn, bilstm or transformer (kerasopt.text.build_text_model)",
            "embedding_dim": "size of the token embeddings",
            "units": "units of the hidden layer (and of the LSTM)",
            "dropout": "dropout of the classifier head",
            "l2": "L2 weight decay on the kernels",
        },
    ),
}


def register_model_family(family: ModelFamily) -> None:
    """Adds a family (the text scenario adds its own) under `family.name`."""
    MODEL_FAMILIES[family.name] = family


def get_model_family(name: str) -> ModelFamily:
    """Looks a family up by name, with the valid names in the error."""
    try:
        return MODEL_FAMILIES[name]
    except KeyError:
        raise SpecError(
            f"[search] model={name!r} is unknown. Expected one of {sorted(MODEL_FAMILIES)}."
            + did_you_mean(name, sorted(MODEL_FAMILIES))
        ) from None
