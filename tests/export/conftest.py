import pytest


@pytest.fixture(scope="session")
def tflite_models(trained_digits_model, digits):
    """Every TFLite variant of the shared trained model, converted once."""
    from kerasopt.export import TFLITE_VARIANTS, convert_to_tflite

    return {
        variant: convert_to_tflite(
            trained_digits_model, variant, representative_data=digits.x_train
        )
        for variant in TFLITE_VARIANTS
    }
