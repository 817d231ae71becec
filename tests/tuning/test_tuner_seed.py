"""A spec's seed repeats its search: the same seed samples the same trials."""

from tuning_specs import write_spec

from kerasopt.tuning import SpecHyperModel, build_tuner, load_search_spec

SPACE = """
[search]
data = "digits"
model = "dense"
tuner = "{tuner}"
objective = "val_accuracy"
max_trials = 8
epochs = 2
seed = {seed}
[space]
units = {{ type = "int", min = 8, max = 512, step = 8 }}
dropout = {{ type = "float", min = 0.0, max = 0.5 }}
learning_rate = {{ type = "float", min = 1e-4, max = 1e-1, sampling = "log" }}
"""


def _first_trials(tmp_path, name, tuner="random", seed=0, count=4):
    spec = load_search_spec(write_spec(tmp_path, SPACE, f"{name}.toml", tuner=tuner, seed=seed))
    built = build_tuner(spec, SpecHyperModel(spec), tmp_path / name)
    return [built.oracle.create_trial(f"t{i}").hyperparameters.values for i in range(count)]


def test_seed_zero_samples_the_same_trials_twice(tmp_path):
    # keras-tuner reads a seed of 0 as "no seed" (`seed or random.randint(1, 10000)`):
    # before the fix every `seed = 0` search drew different trials.
    first = _first_trials(tmp_path, "a")
    assert first == _first_trials(tmp_path, "b")
    assert first != _first_trials(tmp_path, "c", seed=1)


def test_the_bayesian_oracle_repeats_its_random_start_too(tmp_path):
    assert _first_trials(tmp_path, "a", "bayesian", count=2) == _first_trials(
        tmp_path, "b", "bayesian", count=2
    )
