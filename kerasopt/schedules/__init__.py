"""Learning-rate schedules (Keras `LearningRateSchedule`s) and the learning-rate range test.

Every schedule here can be passed as an optimizer's `learning_rate` and survives
`model.save(...)` / `keras.saving.load_model(...)`. `InverseTimeDecay` is Keras' own class,
re-exported so all schedules can be imported from one place.
"""

from keras.optimizers.schedules import InverseTimeDecay

from kerasopt.schedules.annealable_cosine import AnnealableCosine
from kerasopt.schedules.cyclical_lr import CyclicalLR
from kerasopt.schedules.inverse_sqrt_decay import InverseSqrtDecay
from kerasopt.schedules.linear_decay import LinearDecay
from kerasopt.schedules.lr_finder import LRFinderResult, find_lr, suggest_learning_rate
from kerasopt.schedules.one_cycle import OneCycle
from kerasopt.schedules.step_decay import StepDecay
from kerasopt.schedules.warmup_cosine import WarmupCosine

__all__ = [
    "AnnealableCosine",
    "CyclicalLR",
    "InverseSqrtDecay",
    "InverseTimeDecay",
    "LRFinderResult",
    "LinearDecay",
    "OneCycle",
    "StepDecay",
    "WarmupCosine",
    "find_lr",
    "suggest_learning_rate",
]
