"""`cluster_with_tfmot`: weight clustering by TF-MOT for a Keras 3 model.

TF-MOT only takes `tf_keras` models, so the model is carried over by the bridge, each
clusterable layer is wrapped with `cluster_weights`, the model is fine-tuned (the
centroids train, every weight follows its centroid), stripped with `strip_clustering`,
and carried back into a fresh Keras 3 clone. The user's model is only read.

A clustered kernel holds at most `clusters` distinct values, which a generic compressor
(gzip, or the zip of an app bundle) stores far more compactly; the TFLite flatbuffer
itself does not shrink until it is compressed.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras

from kerasopt.compress._tf_keras_finetune import (
    check_finetune_arguments,
    finetune,
    wrap_in_tf_keras,
)
from kerasopt.compress._tfmot import tfmot
from kerasopt.compress.bridge import from_tf_keras
from kerasopt.core.errors import InvalidTypeError, InvalidValueError

#: Centroid initializations, by kerasopt name, mapped to TF-MOT's `CentroidInitialization`.
INITS = {"kmeans++": "KMEANS_PLUS_PLUS", "linear": "LINEAR", "density": "DENSITY_BASED"}
#: Layers whose weights TF-MOT's registry clusters, by tf_keras class. Layers without
#: clusterable weights (BatchNormalization, DepthwiseConv2D, pooling...) are left as is.
CLUSTERABLE_LAYERS = ("Conv1D", "Conv2D", "SeparableConv2D", "Dense", "Embedding", "LSTM", "GRU")


def cluster_with_tfmot(
    model: keras.Model,
    data,
    *,
    clusters: int = 16,
    init: str = "kmeans++",
    preserve_sparsity: bool = False,
    skip_layers: Sequence[str] = (),
    epochs: int = 1,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    verbose: int = 0,
) -> keras.Model:
    """Clusters a Keras 3 model's weights with TF-MOT's `cluster_weights`, then fine-tunes.

    Each clusterable layer (`CLUSTERABLE_LAYERS`, minus `skip_layers`) is wrapped so its
    kernel shares `clusters` centroid values; the model is fine-tuned on `data.x_train`
    with sparse categorical cross-entropy and Adam, validated on `data.x_val`, stripped,
    and returned as a new Keras 3 model whose clustered kernels hold at most `clusters`
    distinct values each. The loss takes probabilities when the last layer ends in
    softmax, logits otherwise. With `preserve_sparsity=True` the zeros of an already
    pruned kernel stay exact zeros (zero is kept as a centroid of its own), so pruning
    and clustering compose. TF-MOT leaves a Conv2D with no more weights than `clusters`
    unclustered, with a warning of its own.

    Clustering moves each weight to its centroid, so a low learning rate is enough:
    the default fine-tuning mainly lets the centroids settle.

    Args:
        model: A built Keras 3 Sequential or Functional classifier that `to_tf_keras`
            supports. It is not changed.
        data: A `DatasetSplits` (anything with `x_train`, `y_train`, `x_val`, `y_val`)
            with integer labels.
        clusters: Distinct values per clustered weight, an integer >= 2 (>= 3 with
            `preserve_sparsity`, which reserves one for zero). Defaults to `16`.
        init: Centroid initialization, one of `INITS`: `"kmeans++"`, `"linear"`
            (evenly spaced between min and max) or `"density"` (evenly spaced along the
            weights' CDF). Defaults to `"kmeans++"`.
        preserve_sparsity: Keep the zeros of a pruned kernel. Defaults to `False`.
        skip_layers: Names of layers to leave unclustered (they are still fine-tuned).
            Defaults to `()`.
        epochs: Fine-tuning epochs. Defaults to `1`.
        batch_size: Fine-tuning batch size. Defaults to `32`.
        learning_rate: Adam learning rate. Defaults to `1e-4`.
        verbose: Verbosity passed to `fit`. Defaults to `0`.

    Returns:
        A new, uncompiled Keras 3 model with `model`'s architecture and clustered weights.

    Example:

    >>> from kerasopt.compress.tfmot_clustering import cluster_with_tfmot
    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> data = load_dataset("digits")
    >>> model = build_cnn(data.input_shape, 10, input_max=16, filters=(8, 16))
    >>> clustered = cluster_with_tfmot(model, data, clusters=8)
    >>> len(set(clustered.get_layer("probabilities").kernel.numpy().ravel())) <= 8
    True
    """
    _check_arguments(
        model, clusters, init, preserve_sparsity, skip_layers, epochs, batch_size, learning_rate
    )
    clustering_api = tfmot().clustering.keras
    params = {
        "number_of_clusters": int(clusters),
        "cluster_centroids_init": getattr(clustering_api.CentroidInitialization, INITS[init]),
        "preserve_sparsity": bool(preserve_sparsity),
    }
    # `cluster_weights` forwards preserve_sparsity to TF-MOT's `_cluster_weights`; its
    # experimental twin, which names it, is not reachable as an attribute
    # (`tfmot.clustering.keras.experimental` does not import its `cluster` module).
    clustered = wrap_in_tf_keras(
        model,
        lambda layer: clustering_api.cluster_weights(layer, **params),
        CLUSTERABLE_LAYERS,
        skip_layers,
    )
    finetune(
        clustered,
        model,
        data,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        verbose=verbose,
    )
    return from_tf_keras(clustering_api.strip_clustering(clustered), like=model)


def _check_arguments(
    model, clusters, init, preserve_sparsity, skip_layers, epochs, batch_size, learning_rate
):
    if isinstance(clusters, bool) or not isinstance(clusters, numbers.Integral):
        raise InvalidTypeError(
            f"cluster_with_tfmot needs an integer number of clusters. Received: {clusters=} "
            f"of type {type(clusters).__name__}. Pass e.g. clusters=16."
        )
    least = 3 if preserve_sparsity else 2
    if clusters < least:
        reason = " (preserve_sparsity=True keeps one of them for zero)" if least == 3 else ""
        raise InvalidValueError(
            f"cluster_with_tfmot needs clusters >= {least}{reason}. Received: {clusters=}. "
            f"Pass clusters={least} or more; 8 or 16 are usual."
        )
    if init not in INITS:
        raise InvalidValueError(f"Expected init in {sorted(INITS)}. Received: {init=}.")
    if not isinstance(preserve_sparsity, bool):
        raise InvalidTypeError(
            f"preserve_sparsity takes True or False. Received: {preserve_sparsity=}."
        )
    check_finetune_arguments("cluster_with_tfmot", model, skip_layers, epochs, batch_size)
    if learning_rate <= 0:
        raise InvalidValueError(
            f"cluster_with_tfmot needs learning_rate > 0. Received: {learning_rate=}. "
            "Pass a small positive rate such as 1e-4."
        )
