"""`check_full_integer`: proves an int8 `.tflite` runs in integers from end to end."""

from __future__ import annotations

import numpy as np

from kerasopt.core.errors import KerasoptError

_FLOAT_TYPES = (np.float16, np.float32, np.float64)
_VARIABLE_OPS = {"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"}


class NotFullIntegerError(KerasoptError, ValueError):
    """Raised when a model meant to be full-integer still computes in float."""


def find_float_parts(model_content: bytes, allow_float_io: bool = False) -> list[str]:
    """Lists every op that reads or writes a float (or resource) tensor.

    A full-integer model for an int8-only accelerator may hold float tensors only at its
    edges, and only when `allow_float_io` says its input and output stay float (then a
    QUANTIZE after the input and a DEQUANTIZE before the output are expected).

    Example:

    >>> find_float_parts(open("model_int8.tflite", "rb").read())  # doctest: +SKIP
    []
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    edges = set()
    if allow_float_io:
        edges |= {d["index"] for d in interpreter.get_input_details()}
        edges |= {d["index"] for d in interpreter.get_output_details()}
    problems = []
    for op in interpreter._get_ops_details():
        name = op["op_name"]
        if name in _VARIABLE_OPS:
            problems.append(f"op {op['index']} {name}: resource-variable op in the graph")
            continue
        for index in [*op["inputs"], *op["outputs"]]:
            tensor = tensors.get(int(index)) if index >= 0 else None
            if tensor is None or index in edges:
                continue
            dtype = tensor["dtype"]
            if dtype in _FLOAT_TYPES or dtype == np.object_:
                problems.append(
                    f"op {op['index']} {name}: tensor {tensor['name']!r} is {np.dtype(dtype).name}"
                )
                break
    return problems


def check_full_integer(model_content: bytes, allow_float_io: bool = False) -> None:
    """Raises `NotFullIntegerError` listing float ops, if the model is not full-integer.

    Example:

    >>> from kerasopt.export import check_full_integer
    >>> check_full_integer(tflite_bytes)  # doctest: +SKIP
    """
    problems = find_float_parts(model_content, allow_float_io=allow_float_io)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise NotFullIntegerError(
            f"The model is not full-integer: {len(problems)} op(s) compute in float or "
            f"hold variables:\n  {shown}{more}\nConvert with the 'int8' variant and a "
            "representative dataset; a layer whose op has no int8 kernel must be "
            "replaced or the model exported as 'dynamic'."
        )
