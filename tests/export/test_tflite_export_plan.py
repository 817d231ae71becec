"""`TFLiteExportPlan`: every variant written once and measured once, as `run` reports them."""

import numpy as np
import pytest

from kerasopt.core.errors import KerasoptError
from kerasopt.export import ExportedModel, LiteRTEvaluator, TFLiteExportPlan


def test_writes_and_measures_each_variant(tmp_path, trained_digits_model, digits):
    reference = trained_digits_model.predict(digits.x_test, verbose=0)
    plan = TFLiteExportPlan(variants=("float32", "int8"))
    exported = plan.export(
        trained_digits_model, digits, tmp_path, seed=0, reference_probabilities=reference
    )
    assert [e.variant for e in exported] == ["float32", "int8"]
    for item in exported:
        assert isinstance(item, ExportedModel)
        content = (tmp_path / item.file_name).read_bytes()
        assert item.metrics.bytes == len(content) and item.notes == {}
        assert item.convert_seconds > 0 and item.measure_seconds > 0
        np.testing.assert_array_equal(
            item.metrics.probabilities, LiteRTEvaluator(content).predict(digits.x_test)
        )
    float32, int8 = exported
    assert float32.metrics.agreement == 1.0 and not float32.metrics.full_integer
    assert int8.metrics.full_integer and int8.metrics.agreement >= 0.95
    record = int8.to_dict()
    assert record["file"] == "model_int8.tflite" and record["notes"] == {}
    assert record["accuracy"] == int8.metrics.accuracy and "probabilities" not in record


def test_unknown_variant_names_the_choices():
    with pytest.raises(
        KerasoptError,
        match=r"Unknown TFLiteExportPlan variant 'int4'\. Expected one of: float32, dynamic",
    ):
        TFLiteExportPlan(variants=("float32", "int4"))
