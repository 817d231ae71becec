"""GradientNormLogger: per-layer gradient norms on a fixed batch, to CSV and TensorBoard."""

import csv
import os
from pathlib import Path

import keras
import tensorflow as tf

from kerasopt.callbacks._common import GradientProbe, unpack_batch
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_int, check_type

_FIXED_COLUMNS = ("step", "epoch", "global")


@keras.saving.register_keras_serializable(package="kerasopt")
class GradientNormLogger(keras.callbacks.Callback):
    """Logs the global and per-layer gradient L2 norms on a fixed batch during training.

    Every `every_n_steps` training steps (and at step 0) it computes the gradients of the
    loss on `sample_data` with the weights as they are after that step, in training mode
    but without side effects (BatchNorm statistics, dropout seeds and logged metrics are
    left alone). A layer's norm is the L2 norm over all its trainable variables; `global`
    is the norm over all of them. Each row goes to `history` (a dict of lists keyed by
    column, like `keras.callbacks.History`), to `csv_path` and to TensorBoard under
    `log_dir` (scalars `gradient_norm/global` and `gradient_norm/<layer>`).

    The CSV header is `step,epoch,global,<layer names in model order>` (a repeated name
    gets a `#2` suffix). Rows are appended and flushed one at a time, so a crash mid-run
    leaves a valid file. `step` and `epoch` count from 0; steps keep counting across `fit`
    calls with the same logger, and later `fit` calls append to the file it started.

    Args:
        sample_data: A fixed batch `(x, y)` or `(x, y, sample_weight)`; keep it small
            (e.g. 32 samples), each log costs one forward and backward pass on it.
        every_n_steps: Log every this many training steps. Defaults to `100`.
        csv_path: CSV file to write; `None` writes none. Defaults to `None`.
        log_dir: TensorBoard log folder; `None` writes no summaries. Defaults to `None`.
        append: Append to an existing `csv_path` with the same header instead of
            overwriting it at the first `fit`. Defaults to `False`.

    Example:

    ```python
    import keras
    import numpy as np
    from kerasopt.callbacks import GradientNormLogger

    x, y = np.random.rand(256, 4), np.random.rand(256, 1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    logger = GradientNormLogger((x[:32], y[:32]), every_n_steps=5, csv_path="grad_norms.csv")
    model.fit(x, y, epochs=2, callbacks=[logger], verbose=0)
    print(logger.history["global"])
    ```
    """

    def __init__(self, sample_data, every_n_steps=100, csv_path=None, log_dir=None, append=False):
        super().__init__()
        owner = "GradientNormLogger"
        self.sample_data = unpack_batch(owner, "sample_data", sample_data)
        self.every_n_steps = check_int(owner, "every_n_steps", every_n_steps, 1)
        for name, value in (("csv_path", csv_path), ("log_dir", log_dir)):
            check_type(
                owner, name, value, (str, os.PathLike, type(None)),
                expected="a path (str or os.PathLike) or None",
                fix=f"Pass e.g. {name}='logs/grad_norms{'.csv' if name == 'csv_path' else ''}'.",
            )  # fmt: skip
        check_type(owner, "append", append, bool, expected="a bool", fix="Pass True or False.")
        self.csv_path = None if csv_path is None else Path(csv_path)
        self.log_dir = None if log_dir is None else str(log_dir)
        self.append = append
        self.history = {}
        self.columns = None
        self._step = 0
        self._epoch = 0
        self._writer = None
        self._probe = None
        self._csv_started = False

    def on_train_begin(self, logs=None):
        # Rebuilt only if the model or its variables changed since the last fit.
        self._probe = GradientProbe.for_model(
            self.model, self.sample_data, self._probe, reserved=_FIXED_COLUMNS
        )
        columns = [*_FIXED_COLUMNS, *self._probe.layer_names]
        if self.columns is not None and columns != self.columns:
            raise InvalidValueError(
                f"GradientNormLogger started with columns {self.columns}, but the model now "
                f"has trainable layers {columns[3:]}. Use a new GradientNormLogger after "
                "changing which layers are trainable."
            )
        self.columns = columns
        if not self.history:
            self.history = {column: [] for column in columns}
        if self.csv_path is not None and not self._csv_started:
            self._start_csv()

    def _start_csv(self):
        path = self.csv_path
        if self.append and path.exists() and path.stat().st_size > 0:
            with open(path, newline="") as f:
                header = next(csv.reader(f), None)
            if header != self.columns:
                raise InvalidValueError(
                    f"GradientNormLogger cannot append to {str(path)!r}: its header {header} "
                    f"differs from this model's columns {self.columns}. Pass another "
                    "csv_path or append=False to overwrite it."
                )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="") as f:
                csv.writer(f).writerow(self.columns)
        self._csv_started = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        step = self._step
        self._step += 1
        if step % self.every_n_steps == 0:
            self.log_step(step)

    def log_step(self, step):
        """Computes the norms now and writes them as the row for `step`; returns the row."""
        probe = self._probe()
        row = {"step": step, "epoch": self._epoch, "global": probe["global"], **probe["layers"]}
        for column in self.columns:
            self.history[column].append(row[column])
        if self.csv_path is not None:
            # Open, append, close per row: a crash leaves every finished row on disk.
            with open(self.csv_path, "a", newline="") as f:
                csv.writer(f).writerow([row[column] for column in self.columns])
        if self.log_dir is not None:
            self._write_summaries(step, row)
        return row

    def _write_summaries(self, step, row):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default(step=step):
            for column in self.columns[2:]:
                tf.summary.scalar(f"gradient_norm/{column}", row[column])
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def get_config(self):
        # sample_data is data, not configuration: pass it again after from_config.
        return {
            "every_n_steps": self.every_n_steps,
            "csv_path": None if self.csv_path is None else str(self.csv_path),
            "log_dir": self.log_dir,
            "append": self.append,
        }

    @classmethod
    def from_config(cls, config, sample_data=None):
        if sample_data is None:
            raise InvalidValueError(
                "GradientNormLogger.from_config needs the sample batch, which the config "
                "does not store. Call GradientNormLogger.from_config(config, "
                "sample_data=(x, y))."
            )
        return cls(sample_data, **config)
