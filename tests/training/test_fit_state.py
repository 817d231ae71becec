import keras
import numpy as np
import pytest

from kerasopt.data import make_dataset
from kerasopt.models import build_cnn
from kerasopt.training import TrainConfig, train
from kerasopt.training.fit_state import build_fit_state

SMALL = {"input_max": 16, "filters": (4,), "dense_units": 8, "bn_momentum": 0.9}


def _count_traces(model):
    """Counts Python calls of `train_step`: one per trace of the compiled train step."""
    traces = []
    step = model.train_step

    def counted(data):
        traces.append(1)
        return step(data)

    model.train_step = counted
    return traces


def _fit(digits, prebuild):
    keras.utils.set_random_seed(0)
    model = build_cnn(digits.input_shape, 10, **SMALL)
    traces = _count_traces(model)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    train_ds = make_dataset(digits.x_train[:256], digits.y_train[:256], batch_size=64)
    if prebuild:
        build_fit_state(model, train_ds)
        assert model.optimizer.built
    history = model.fit(train_ds, epochs=2, verbose=0, shuffle=False)
    return len(traces), history.history


def test_the_train_step_is_traced_once_and_trains_the_same(digits):
    traces, history = _fit(digits, prebuild=True)
    _, lazy_history = _fit(digits, prebuild=False)
    assert traces == 1
    np.testing.assert_allclose(history["loss"], lazy_history["loss"], rtol=1e-6)
    np.testing.assert_allclose(history["accuracy"], lazy_history["accuracy"], rtol=1e-6)


def test_train_traces_its_step_once(digits):
    model = build_cnn(digits.input_shape, 10, **SMALL)
    traces = _count_traces(model)
    train(model, digits, TrainConfig(epochs=2, augment=None), verbose=0)
    assert len(traces) == 1


def test_a_batch_of_arrays_builds_it_too():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    build_fit_state(model, (np.zeros((8, 4), "float32"), np.zeros(8, "int64")))
    assert model.optimizer.built
    assert [len(v.shape) for v in model.optimizer.variables][-2:] == [1, 1]


@pytest.mark.parametrize("compiled", [False, True])
def test_only_a_compiled_model_is_built(compiled):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    if compiled:
        model.compile("sgd", "mse")
    build_fit_state(model, (np.zeros((2, 4)), np.zeros((2, 3))))
    assert model.optimizer.built if compiled else getattr(model, "optimizer", None) is None


def test_tf_keras_fine_tuning_traces_its_step_once(digits):
    from kerasopt.compress import to_tf_keras
    from kerasopt.compress._tf_keras_finetune import finetune

    model = build_cnn(digits.input_shape, 10, **SMALL)
    twin = to_tf_keras(model)
    traces = _count_traces(twin)
    history = finetune(twin, model, digits, epochs=2, batch_size=64, learning_rate=1e-3)
    assert len(traces) == 1
    assert history.history["loss"][1] < history.history["loss"][0]


def test_a_distiller_traces_its_step_once(digits):
    import importlib

    from kerasopt.compress.distillation import build_distiller

    distill_student = importlib.import_module("kerasopt.compress.distill_student")
    teacher = build_cnn(digits.input_shape, 10, **SMALL)
    student = build_cnn(digits.input_shape, 10, **{**SMALL, "dense_units": 4})
    distiller = build_distiller(teacher, student, temperature=1.0)
    distill_student.compile_distiller(distiller, keras.optimizers.Adam(1e-3))
    traces = _count_traces(distiller)
    train_ds = make_dataset(digits.x_train[:256], digits.y_train[:256], batch_size=64)
    build_fit_state(distiller, train_ds)
    distiller.fit(train_ds, epochs=2, verbose=0, shuffle=False)
    assert len(traces) == 1
