"""`standard_techniques`: the guides' training techniques, ready for `compare_techniques`."""

from __future__ import annotations

from kerasopt.core.errors import InvalidValueError
from kerasopt.training.technique_comparison import Technique


def standard_techniques(input_max: float, *, include: list[str] | None = None) -> list[Technique]:
    """The catalogue of techniques kerasopt implements, one `Technique` each.

    The first entry is the baseline (no augmentation, Adam with warmup+cosine); every
    other entry changes exactly one thing. `input_max` is the raw pixel maximum (16 for
    digits, 255 for MNIST): noise and the adversarial attack are scaled to it.

    Args:
        input_max: Largest raw input value.
        include: Names to keep (the baseline is always kept), or `None` for all.
            Defaults to `None`.

    Example:

    >>> from kerasopt.training import standard_techniques
    >>> [t.name for t in standard_techniques(16, include=["mixup"])]
    ['baseline', 'mixup']
    """
    from kerasopt.adversarial import AdversarialModel
    from kerasopt.optimizers import SWA
    from kerasopt.regularizers import apply_regularization

    value_range = f"value_range=(0, {input_max:g})"

    def l2(model):
        return apply_regularization(
            model, kernel_regularizer="l2(1e-3)", layer_types=["Conv2D", "Dense"]
        )

    def max_norm(model):
        return apply_regularization(model, kernel_constraint="max_norm(2)", layer_types="Dense")

    def adversarial(model):
        return AdversarialModel(model, attack="fgsm", epsilon=0.05, input_range=(0, input_max))

    def swa(data, config):
        # Average the last quarter of the epochs, where the cosine schedule is low.
        return [SWA(start_epoch=max(0, config.epochs * 3 // 4), bn_data=data.x_train)]

    catalogue = [
        Technique("baseline"),
        Technique("affine aug", {"augment": {"rotation": 0.05, "translation": 0.1, "zoom": 0.1}}),
        Technique("crop+noise aug", {"augment": f"crop_pad(1), noise(0.03, {value_range})"}),
        Technique("mixup", {"augment": "mixup(alpha=0.2)"}),
        Technique("cutmix", {"augment": "cutmix(alpha=1.0)"}),
        Technique("label smoothing", {"label_smoothing": 0.1}),
        Technique("L2 1e-3", transform_model=l2),
        Technique("max-norm 2", transform_model=max_norm),
        Technique(
            "AdamW wd 1e-2", {"optimizer": "adamw", "optimizer_kwargs": {"weight_decay": 1e-2}}
        ),
        Technique("RAdam", {"optimizer": "radam"}),
        Technique("AdaBound", {"optimizer": "adabound"}),
        Technique("Lookahead(Adam)", {"lookahead": {}}),
        Technique("global clipnorm 1", {"global_clipnorm": 1.0}),
        Technique("AGC 0.01", {"agc_clip_factor": 0.01}),
        Technique("one-cycle LR", {"lr_schedule": "one_cycle"}),
        Technique("SWA", callbacks=swa),
        Technique("FGSM adv. training", transform_model=adversarial),
    ]
    if include is None:
        return catalogue
    known = [t.name for t in catalogue]
    unknown = [name for name in include if name not in known]
    if unknown:
        raise InvalidValueError(f"standard_techniques has no technique {unknown}. Known: {known}.")
    return [t for t in catalogue if t.name == "baseline" or t.name in include]
