"""`strip_tensor_names`: drop the debug names of a `.tflite` file's intermediate tensors.

The converter names every tensor after the Keras ops it fused
(`"model/stage2_b_bn/batchnorm/add_1;model/stage2_b_conv/convolution"`); the interpreter
never reads those names. In a phone-sized int8 model they are a large share of the
file: 3.7 KB of a 25 KB residual CNN (4/8/16 filters), which stripped is 0.845x its
size. The names of the model's inputs and outputs, and of every tensor a signature
refers to, are kept, so `get_input_details`, signature runners and MediaPipe Tasks see
the same file.
"""

from __future__ import annotations

from kerasopt.export.flatbuffer_model import (
    BUFFER_ALIGNMENT,
    pack_tflite,
    tensor_indices,
    unpack_tflite,
)

__all__ = ["BUFFER_ALIGNMENT", "deployable_bytes", "strip_tensor_names"]


def strip_tensor_names(content: bytes) -> bytes:
    """`content` re-packed without the names of tensors that are not inputs or outputs.

    Ops, weights, quantization parameters, signatures and metadata are unchanged, so the
    stripped file computes exactly what the original computes.

    Raises:
        InvalidValueError: `content` is not a TFLite flatbuffer, carries a zip of
            associated files after it (a bundle: strip before `attach_metadata`), or
            keeps its weights outside the flatbuffer (files over 2 GB).

    Example:

    >>> content = convert_to_tflite(model, "int8", representative_data=x)  # doctest: +SKIP
    >>> len(strip_tensor_names(content)) < len(content)  # doctest: +SKIP
    True
    """
    model = unpack_tflite("strip_tensor_names", content)
    for index, subgraph in enumerate(model.subgraphs or []):
        kept = set(tensor_indices(subgraph.inputs)) | set(tensor_indices(subgraph.outputs))
        for signature in model.signatureDefs or []:
            if signature.subgraphIndex == index:
                for entry in [*(signature.inputs or []), *(signature.outputs or [])]:
                    kept.add(entry.tensorIndex)
        for position, tensor in enumerate(subgraph.tensors or []):
            if position not in kept:
                tensor.name = None
    return pack_tflite(model, len(content))


def deployable_bytes(content: bytes, variant: str, *, strip_names: bool = True) -> bytes:
    """The file to write: an int8 file checked full-integer first, then names stripped.

    The check runs on the converter's file, so a float op left in it is named after its
    layer; stripping comes after.

    Raises:
        NotFullIntegerError: `variant` is `"int8"` and a float op is left.

    Example:

    >>> content = deployable_bytes(convert_to_tflite(model, "int8", ...), "int8")  # doctest: +SKIP
    """
    from kerasopt.export.full_integer_check import check_full_integer

    if variant == "int8":
        check_full_integer(content)
    return strip_tensor_names(content) if strip_names else bytes(content)
