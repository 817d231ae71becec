"""Flex ops: TensorFlow ops a `.tflite` file keeps with `SELECT_TF_OPS`.

A file with Flex ops needs the Flex delegate, which MediaPipe Tasks and plain LiteRT do not
ship; it fails to allocate on a phone. `convert_to_tflite` refuses such a file, and
`kerasopt inspect` lists its Flex ops (Keras' own `model.export(format="litert")` turns
`SELECT_TF_OPS` on by default, so a user's file can carry them).
"""

from __future__ import annotations

from kerasopt.core.errors import KerasoptError


class FlexOpsError(KerasoptError, ValueError):
    """Raised when a `.tflite` file needs the Flex delegate (TensorFlow ops)."""


def find_flex_ops(content: bytes) -> list[str]:
    """The Flex ops (kept by `SELECT_TF_OPS`): custom ops whose code starts with `"Flex"`.

    Example:

    >>> find_flex_ops(open("model_int8.tflite", "rb").read())  # doctest: +SKIP
    []
    """
    from ai_edge_litert import schema_py_generated as schema

    root = schema.Model.GetRootAs(bytes(content), 0)
    codes = (root.OperatorCodes(i).CustomCode() for i in range(root.OperatorCodesLength()))
    return sorted({code.decode() for code in codes if code and code.startswith(b"Flex")})


def check_no_flex_ops(content: bytes, *, name: str) -> None:
    """Raises `FlexOpsError` naming the Flex ops of `content`, if it has any.

    Example:

    >>> check_no_flex_ops(tflite_bytes, name="digits_cnn")  # doctest: +SKIP
    """
    flex = find_flex_ops(content)
    if flex:
        raise FlexOpsError(
            f"{name!r} needs the Flex delegate for {len(flex)} TensorFlow op(s): "
            f"{', '.join(flex)}. MediaPipe Tasks and plain LiteRT do not ship that delegate, "
            "so the file fails to allocate there. Replace the layers that use these ops "
            "with ones TFLite has as builtins, or run the file only in an app that links "
            "the Flex delegate."
        )
