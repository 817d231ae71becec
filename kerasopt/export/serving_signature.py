"""`add_serving_signature`: the `serving_default` signature a frozen-graph file lacks.

`convert_to_tflite` converts a frozen copy of the model's inference function, 4-5x
faster than through a SavedModel, but that converter writes no signature, and Android's
`Interpreter.runSignature`, LiteRT's signature runners and `kerasopt inspect` read one.
This adds the signature the SavedModel route writes: key `serving_default`, the input
under its `TensorSpec` name, the output as `output_0`.
"""

from __future__ import annotations

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.flatbuffer_model import pack_tflite, tensor_indices, unpack_tflite

SERVING_SIGNATURE = "serving_default"


def add_serving_signature(content: bytes, input_key: str, output_key: str = "output_0") -> bytes:
    """`content` with a `serving_default` signature over its one input and one output.

    A file that already has signatures is returned unchanged.

    Args:
        content: A converted `.tflite` file with one subgraph input and output.
        input_key: The signature's name for the input (the `TensorSpec` name).
        output_key: The signature's name for the output. Defaults to `"output_0"`.

    Raises:
        InvalidValueError: `content` is not a TFLite flatbuffer, or its main subgraph
            has more than one input or output.

    Example:

    >>> content = add_serving_signature(content, "pixels")  # doctest: +SKIP
    >>> Interpreter(model_content=content).get_signature_list()  # doctest: +SKIP
    {'serving_default': {'inputs': ['pixels'], 'outputs': ['output_0']}}
    """
    from ai_edge_litert import schema_py_generated as schema

    model = unpack_tflite("add_serving_signature", content)
    if model.signatureDefs:
        return bytes(content)
    main = model.subgraphs[0]
    inputs, outputs = tensor_indices(main.inputs), tensor_indices(main.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        raise InvalidValueError(
            "add_serving_signature: expected a model with one input and one output. "
            f"Received: {len(inputs)} inputs and {len(outputs)} outputs. Convert through "
            "savedmodel_converter, which writes the signatures itself."
        )
    signature = schema.SignatureDefT()
    signature.signatureKey = SERVING_SIGNATURE
    signature.subgraphIndex = 0
    signature.inputs = [_tensor_map(schema, input_key, inputs[0])]
    signature.outputs = [_tensor_map(schema, output_key, outputs[0])]
    model.signatureDefs = [signature]
    return pack_tflite(model, len(content))


def _tensor_map(schema, name: str, index: int):
    entry = schema.TensorMapT()
    entry.name = name
    entry.tensorIndex = index
    return entry
