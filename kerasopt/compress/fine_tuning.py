"""`fine_tune`: the recovery fit every Keras 3 compression stage shares.

The rate held while the sparsity ramps, then a cosine decay over the rest of the stage's
epoch budget; sparse cross-entropy matched to the model's output (probabilities or
logits); a `BudgetStop` that keeps the epoch with the lowest validation loss (and, with
`stop_early`, anneals the rate and stops once that epoch holds the budget); and
optionally the dense model as a teacher through `keras.distillation`.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from kerasopt.compress.accuracy_budget import BudgetStop, StageFineTuning
from kerasopt.compress.distillation import output_kind
from kerasopt.schedules.annealable_cosine import AnnealableCosine
from kerasopt.training.fit_state import build_fit_state

#: Temperature of the distillation loss while fine-tuning a compressed model. Measured at
#: 80 % sparsity, 4 epochs, digits (int8 test drop, seeds 0-1, without -> with T=1):
#: residual 8.1 -> 4.2 and 24.4 -> 23.3, Conv1D 0.6 -> 0.0 and 0.8 -> 1.1, dropout head
#: 0.8 -> 0.8 and 0.0 -> -0.3; Hinton's usual T=4 did worse on all three (Conv1D 2.5
#: and 2.8). The student starts as the teacher, so the teacher's sharp outputs are
#: targets it can still reach.
DISTILLATION_TEMPERATURE = 1.0


#: With `stop_early`, the fraction of the epoch budget over which the rate anneals to
#: zero before the stage stops (at least one epoch): 2 epochs on digits, 1 on
#: Fashion-MNIST.
ANNEAL_FRACTION = 1 / 15


def fine_tuning_rate(learning_rate: float, min_epochs: int, max_epochs: int, steps_per_epoch: int):
    """The peak rate held through the first `min_epochs`, then cosine decay to `max_epochs`.

    The sparsity ramp runs in the first `min_epochs`, and the model needs the full rate
    to follow it. Measured at 80 % sparsity in 3 epochs on digits (kerasopt's CNN and
    the user-shaped residual model): a cosine decay from the start lost 7 points
    against a constant rate (0.867 against 0.936, seed 0), and a quarter-epoch warmup
    before the hold lost in 6 of 8 runs (seeds 1-2, rates 1e-2 and 1e-3), so there is
    no warmup: the model is trained already. A fixed-length fit (`max_epochs ==
    min_epochs`) holds the rate only through the ramp, its first half, and decays over
    the second, so that it too ends at a small rate. The schedule is an
    `AnnealableCosine`, so a `BudgetStop` can end it early with a short decay.

    Example:

    >>> schedule = fine_tuning_rate(1e-2, min_epochs=8, max_epochs=30, steps_per_epoch=41)
    >>> schedule.hold_steps, schedule.total_steps
    (328, 1230)
    >>> fine_tuning_rate(1e-2, 4, 4, 41).hold_steps  # fixed length: hold the ramp only
    82
    """
    total = max(2, max_epochs * steps_per_epoch)
    hold = min_epochs * steps_per_epoch
    if hold >= total:
        hold = total // 2
    return AnnealableCosine(learning_rate, total_steps=total, hold_steps=hold)


def anneal_epochs(max_epochs: int) -> int:
    """Epochs over which `stop_early` anneals the rate before a held stage stops.

    Example:

    >>> anneal_epochs(30), anneal_epochs(6)
    (2, 1)
    """
    return max(1, round(max_epochs * ANNEAL_FRACTION))


def fine_tune(
    model: keras.Model,
    data,
    *,
    min_epochs: int,
    max_epochs: int,
    learning_rate: float,
    floor: float | None = None,
    callbacks=(),
    teacher: keras.Model | None = None,
    batch_size: int = 32,
    stop_early: bool = False,
    verbose: int = 0,
) -> StageFineTuning:
    """Fits `model` in place for `max_epochs` (or until a held `floor` stops it early).

    Runs at least `min_epochs` and at most `max_epochs` epochs on `data.x_train` with
    Adam under `fine_tuning_rate` (held during the first `min_epochs`, then cosine),
    validating on `data.x_val`; with a `floor`, the weights of the post-ramp epoch with
    the lowest validation loss are the ones left in `model` (`BudgetStop`). The whole
    schedule runs unless `stop_early`: then, once that epoch holds `floor` and the loss
    has stopped falling, the rate anneals to zero over `anneal_epochs(max_epochs)`
    epochs and the fit stops, for fewer epochs and usually a little accuracy. With
    `teacher` (the dense model), the fit goes through a `keras.distillation.Distiller`:
    half the loss is the labels' cross-entropy, half the KL divergence to the teacher's
    softened outputs.
    `callbacks` (such as `MagnitudePruning`) run in the same fit.

    Args:
        model: The stage's Keras 3 classifier, built; modified in place.
        data: `DatasetSplits` with train and validation splits.
        min_epochs: Epochs always run (a pruning ramp ends within them).
        max_epochs: The epoch budget.
        learning_rate: Peak rate of the schedule.
        floor: Validation accuracy at which to stop, or `None` to run `max_epochs`.
            Defaults to `None`.
        callbacks: More Keras callbacks. Defaults to `()`.
        teacher: The model to distill from, or `None`. Defaults to `None`.
        batch_size: Samples per step. Defaults to `32`.
        stop_early: Whether a stage that holds `floor` anneals and stops before
            `max_epochs`. Defaults to `False`.
        verbose: Keras `fit` verbosity. Defaults to `0`.

    Returns:
        A `StageFineTuning`: epochs run, seconds, final validation accuracy.

    Example:

    ```python
    record = fine_tune(smaller, data, min_epochs=2, max_epochs=30, learning_rate=1e-2,
                       floor=dense_val_accuracy - 0.01)
    ```
    """
    started = time.perf_counter()
    steps_per_epoch = math.ceil(len(data.y_train) / batch_size)
    rate = fine_tuning_rate(learning_rate, min_epochs, max_epochs, steps_per_epoch)
    optimizer = keras.optimizers.Adam(rate)
    target = model
    # keras.distillation.Distiller freezes every layer of the teacher for good; the
    # teacher is the user's dense model, which compression promises to leave as it was.
    layers = [] if teacher is None else teacher._flatten_layers()
    trainable = [(layer, layer.trainable) for layer in layers]
    try:
        if teacher is not None:
            from kerasopt.compress.distillation import build_distiller

            target = build_distiller(teacher, model, temperature=DISTILLATION_TEMPERATURE)
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=output_kind(model) == "logits"
            )
        target.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        build_fit_state(target, (data.x_train, data.y_train))
        stop = BudgetStop(
            floor,
            min_epochs=min_epochs,
            stop_early=stop_early,
            rate=rate,
            anneal_epochs=anneal_epochs(max_epochs),
        )
        target.fit(
            np.asarray(data.x_train),
            np.asarray(data.y_train),
            batch_size=batch_size,
            epochs=max_epochs,
            validation_data=(np.asarray(data.x_val), np.asarray(data.y_val)),
            callbacks=[*callbacks, stop],
            verbose=verbose,
        )
    finally:
        for layer, flag in trainable:
            layer.trainable = flag
    return stop.record(started, max_epochs, learning_rate)
