"""`best_of_rates`: one compression stage fine-tuned at each candidate rate, the best kept.

No single fine-tuning rate suits every trained model. Over the user-shaped zoo (digits,
models trained with Adam at a constant 1e-3), a stage fine-tuned at 1e-2 kept the
accuracy that one at 1e-3 lost; on kerasopt's Fashion-MNIST default (trained with SGD
and a cosine to zero), 1e-2 lost 0.9 points at 80 % sparsity where 1e-3 lost 0.3. The
learning-rate range test cannot tell them apart on a trained model: it suggested 1e-5
on every zoo model. So `compress_model` fine-tunes each stage from the same start at
each candidate rate and keeps the one that does best on the validation split, the split
the accuracy budget is judged on.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence

from kerasopt.compress.accuracy_budget import StageFineTuning

logger = logging.getLogger(__name__)


def best_of_rates(fit_at: Callable, rates: Sequence[float]):
    """Runs `fit_at(rate)` for each rate and keeps the result best on validation.

    Each `fit_at(rate)` must fine-tune its own copy from the same start and return
    `(model, StageFineTuning)`. The kept one has the highest validation accuracy at its
    kept epoch; a lower validation loss breaks a tie (a small validation split often
    scores two fits the same). Its record gets `learning_rate`, `rate_trials` (every
    rate's validation accuracy, loss, epochs and seconds) and the seconds of all trials.

    Args:
        fit_at: `rate -> (model, StageFineTuning)`.
        rates: Candidate peak rates, at least one.

    Returns:
        `(model, StageFineTuning)` of the rate kept.

    Example:

    ```python
    start = pruned_model
    model, record = best_of_rates(
        lambda rate: fit_copy(start, rate), (1e-3, 1e-2)
    )
    record.learning_rate, [t["val_accuracy"] for t in record.rate_trials]
    ```
    """
    results = []
    for rate in rates:
        model, record = fit_at(rate)
        record = dataclasses.replace(record, learning_rate=float(rate))
        logger.info(
            "fine-tuning at %g: validation accuracy %.4f, loss %.4f",
            rate,
            record.val_accuracy,
            record.val_loss if record.val_loss is not None else math.nan,
        )
        results.append((model, record))
    if len(results) == 1:
        return results[0]
    trials = tuple(_trial(record) for _, record in results)
    model, best = max(results, key=lambda result: _rank(result[1]))
    seconds = sum(record.seconds for _, record in results)
    return model, dataclasses.replace(best, seconds=seconds, rate_trials=trials)


def _rank(record: StageFineTuning) -> tuple[float, float]:
    accuracy = record.val_accuracy if math.isfinite(record.val_accuracy) else -math.inf
    loss = record.val_loss
    loss = loss if loss is not None and math.isfinite(loss) else math.inf
    return accuracy, -loss


def _trial(record: StageFineTuning) -> dict:
    return {
        "learning_rate": record.learning_rate,
        "val_accuracy": record.val_accuracy,
        "val_loss": record.val_loss,
        "epochs": record.epochs,
        "seconds": record.seconds,
    }
