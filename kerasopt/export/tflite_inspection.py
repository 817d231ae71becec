"""`inspect_tflite`: what a `.tflite` file holds (ops, dtypes, memory, metadata, Flex ops).

Reads the flatbuffer with `ai_edge_litert.schema_py_generated` (the TFLite schema) and
loads it once on the LiteRT interpreter, which tells whether a phone could run it.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from kerasopt.core.errors import MissingFileError
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import invalid_value
from kerasopt.export.flex_ops_check import find_flex_ops

#: The flatbuffer file identifier of every `.tflite` file, at bytes 4-8.
TFLITE_FILE_IDENTIFIER = b"TFL3"

_CUSTOM = 32  # BuiltinOperator.CUSTOM
_SUB_BYTE_BITS = {"INT2": 2, "INT4": 4, "UINT4": 4, "BFLOAT16": 16}


@dataclasses.dataclass(frozen=True)
class OpUse:
    """`count` operators of one kind and one dtype signature in one subgraph."""

    subgraph: int
    op: str  # the builtin name, or the custom code
    input_dtypes: tuple[str, ...]
    output_dtypes: tuple[str, ...]
    count: int


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """A model input or output; `-1` marks a dynamic dimension."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None


@dataclasses.dataclass(frozen=True)
class TFLiteInspection:
    """What one `.tflite` file holds, as `inspect_tflite` read it.

    Attributes:
        bytes: File size.
        ops: One `OpUse` per (subgraph, op, input dtypes, output dtypes).
        tensors: Tensors in all subgraphs.
        constant_bytes: Constant tensors (weights, biases, shapes), each buffer once.
        activation_bytes: "Activation bytes (upper bound)": every non-constant tensor at
            batch 1 in all subgraphs, as if none shared memory.
        peak_activation_bytes: The most bytes of main-subgraph tensors alive at once, the
            ops run in order: what a perfect arena planner needs. LiteRT exposes no arena
            size; its planner adds alignment, and kernel scratch (im2col, XNNPACK
            workspaces) comes on top of both numbers.
        inputs, outputs: The main subgraph's `TensorSpec`s.
        signatures: `Interpreter.get_signature_list()`.
        metadata: Bytes of each entry of the model's `metadata` table, by name.
        tflite_metadata: The decoded TFLite metadata, or `None`.
        associated_files: Names in a zip appended to the flatbuffer (a bundle).
        flex_ops: Flex (SELECT_TF_OPS) ops, which plain LiteRT cannot run.
        litert_error: Why LiteRT could not load, allocate or run the file once on zeros
            (batch 1), or `None`.
    """

    bytes: int
    ops: tuple[OpUse, ...]
    tensors: int
    constant_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    signatures: dict
    metadata: dict[str, int]
    tflite_metadata: dict | None
    associated_files: tuple[str, ...]
    flex_ops: tuple[str, ...]
    litert_error: str | None

    def to_dict(self) -> dict:
        """Plain types only, ready for `json.dumps`."""
        return dataclasses.asdict(self)

    def sections(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """`(title, header, rows)` of each table `to_text` and `to_markdown` show."""
        summary = [
            ["file", f"{self.bytes:,} bytes"],
            ["tensors", str(self.tensors)],
            ["constant (weights)", f"{self.constant_bytes:,} bytes"],
            ["activation bytes (upper bound)", f"{self.activation_bytes:,} bytes"],
            ["peak live activations", f"{self.peak_activation_bytes:,} bytes"],
            ["Flex ops", ", ".join(self.flex_ops) or "none"],
            ["runs on LiteRT", "yes" if self.litert_error is None else self.litert_error],
        ]
        ops = [
            [str(u.subgraph), u.op, *map(",".join, (u.input_dtypes, u.output_dtypes)), str(u.count)]
            for u in self.ops
        ]
        io_rows = [
            [kind, t.name, str(list(t.shape)), t.dtype]
            + ["" if v is None else f"{v:.6g}" for v in (t.scale, t.zero_point)]
            for kind, specs in (("input", self.inputs), ("output", self.outputs))
            for t in specs
        ]
        signatures = [
            [key, *(", ".join(value.get(part, [])) for part in ("inputs", "outputs"))]
            for key, value in self.signatures.items()
        ]
        metadata = [[name, f"{size:,} bytes"] for name, size in self.metadata.items()]
        metadata += [["associated file", name] for name in self.associated_files]
        metadata += [  # the decoded metadata, one line per top-level key
            [f"tflite metadata: {key}", json.dumps(value, default=str)[:60]]
            for key, value in (self.tflite_metadata or {}).items()
        ]
        return [
            ("Summary", ["what", "value"], summary),
            ("Ops", ["subgraph", "op", "input dtypes", "output dtypes", "count"], ops),
            ("Inputs and outputs", ["", "name", "shape", "dtype", "scale", "zero point"], io_rows),
            ("Signatures", ["signature", "inputs", "outputs"], signatures),
            ("Metadata", ["entry", "value"], metadata),
        ]

    def to_text(self) -> str:
        """The tables as aligned plain text, for a terminal."""
        parts = [f"{title}\n{text_table(header, rows)}" for title, header, rows in self.sections()]
        return "\n\n".join(parts)

    def to_markdown(self) -> str:
        """The tables as GitHub-flavoured Markdown, one `###` heading each."""
        return "\n\n".join(
            "\n".join([f"### {title}", "", *markdown_table(header, rows)])
            for title, header, rows in self.sections()
        )


def inspect_tflite(model: bytes | str | os.PathLike) -> TFLiteInspection:
    """Reads a `.tflite` file: ops with their dtypes, tensor memory, I/O, metadata.

    Memory is estimated from the flatbuffer, since LiteRT exposes no arena size:
    `activation_bytes` sums every non-constant tensor (an upper bound on the tensors'
    arena) and `peak_activation_bytes` the largest set alive at once (see
    `TFLiteInspection`). A dynamic batch dimension counts as 1.

    Args:
        model: TFLite bytes or the path of a `.tflite` file.

    Example:

    >>> from kerasopt.export.tflite_inspection import inspect_tflite
    >>> print(inspect_tflite("saved_models/digits/model_int8.tflite").to_text())  # doctest: +SKIP
    """
    from ai_edge_litert import schema_py_generated as schema

    content = _read_content(model)
    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAs(content, 0))
    buffers, types = tree.buffers or [], _names(schema.TensorType)
    op_names = [_op_name(code, _names(schema.BuiltinOperator)) for code in tree.operatorCodes]

    counts, constants, activation_bytes, tensors = collections.Counter(), {}, 0, 0
    for index, subgraph in enumerate(tree.subgraphs):
        subgraph.tensors = subgraph.tensors or []
        tensors += len(subgraph.tensors)
        for tensor in subgraph.tensors:
            if size := _buffer_bytes(buffers, tensor.buffer):
                constants[tensor.buffer] = size  # shared buffers count once
            else:
                activation_bytes += _tensor_bytes(tensor, types)
        for op in subgraph.operators or []:
            dtypes = [
                tuple(types[subgraph.tensors[i].type] for i in _indices(indices))
                for indices in (op.inputs, op.outputs)
            ]
            counts[(index, op_names[op.opcodeIndex], *dtypes)] += 1

    main = tree.subgraphs[0]
    signatures, litert_error = _load_on_litert(content)
    return TFLiteInspection(
        bytes=len(content),
        ops=tuple(OpUse(*key, count) for key, count in counts.items()),
        tensors=tensors,
        constant_bytes=sum(constants.values()),
        activation_bytes=activation_bytes,
        peak_activation_bytes=_peak_live_bytes(main, buffers, types),
        inputs=tuple(_spec(main.tensors[i], types) for i in _indices(main.inputs)),
        outputs=tuple(_spec(main.tensors[i], types) for i in _indices(main.outputs)),
        signatures=signatures,
        metadata={_text(m.name): _buffer_bytes(buffers, m.buffer) for m in tree.metadata or []},
        tflite_metadata=_decoded_metadata(content),
        associated_files=_associated_files(content),
        flex_ops=tuple(find_flex_ops(content)),
        litert_error=litert_error,
    )


def _read_content(model) -> bytes:
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise MissingFileError(f"No TFLite file at {str(path)!r}. Pass a .tflite path.")
        model = path.read_bytes()
    return check_tflite_content("inspect_tflite", model)


def check_tflite_content(owner: str, content) -> bytes:
    """`content` as bytes, refused unless it starts like a TFLite flatbuffer.

    Example:

    >>> check_tflite_content("strip_tensor_names", b"PK")
    Traceback (most recent call last):
    ...
    kerasopt.core.errors.InvalidValueError: strip_tensor_names: expected a TFLite \
flatbuffer (file identifier 'TFL3' at bytes 4-8). Received: 2 bytes starting with b'PK'. \
Pass a .tflite file written by the TFLite converter.
    """
    content = bytes(content)
    if len(content) < 8 or content[4:8] != TFLITE_FILE_IDENTIFIER:
        raise invalid_value(
            owner,
            "a TFLite flatbuffer (file identifier 'TFL3' at bytes 4-8)",
            f"{len(content)} bytes starting with {content[:8]!r}",
            "Pass a .tflite file written by the TFLite converter.",
        )
    return content


def _names(enum) -> dict[int, str]:
    return {value: name for name, value in vars(enum).items() if not name.startswith("_")}


def _op_name(code, builtin_names: dict[int, str]) -> str:
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == _CUSTOM:
        return _text(code.customCode) or "CUSTOM"
    return builtin_names.get(builtin, f"BUILTIN_{builtin}")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _indices(indices) -> list[int]:
    """Tensor indices, without the -1 of an omitted optional input."""
    return [int(i) for i in (indices if indices is not None else []) if i >= 0]


def _buffer_bytes(buffers, index: int) -> int:
    """Bytes of a constant buffer (in the flatbuffer or, past 2 GB, at an offset); 0 if none."""
    if not 0 < index < len(buffers):
        return 0
    buffer = buffers[index]
    return len(buffer.data) if buffer.data is not None else int(buffer.size or 0)


def _tensor_bytes(tensor, types) -> int:
    """Bytes at batch 1; STRING, RESOURCE and VARIANT tensors have no fixed size: 0."""
    dtype = types[tensor.type]
    try:
        bits = _SUB_BYTE_BITS.get(dtype) or np.dtype(dtype.lower()).itemsize * 8
    except TypeError:
        return 0
    shape = [max(int(d), 1) for d in (tensor.shape if tensor.shape is not None else [])]
    return int(np.prod(shape, dtype=np.int64)) * bits // 8


def _peak_live_bytes(subgraph, buffers, types) -> int:
    """Largest sum of non-constant tensors alive at one op, the ops run in order."""
    operators = subgraph.operators or []
    born, last = {i: -1 for i in _indices(subgraph.inputs)}, {}
    for step, op in enumerate(operators):
        for i in _indices(op.outputs):
            born.setdefault(i, step)
        for i in _indices(op.inputs):
            last[i] = step
    for i in _indices(subgraph.outputs):
        last[i] = len(operators)
    live = np.zeros(len(operators) + 3, dtype=np.int64)  # step s at index s + 1
    for i, start in born.items():
        tensor = subgraph.tensors[i]
        size = 0 if _buffer_bytes(buffers, tensor.buffer) else _tensor_bytes(tensor, types)
        live[start + 1] += size
        live[max(last.get(i, start), start) + 2] -= size
    return int(np.cumsum(live).max(initial=0))


def _spec(tensor, types) -> TensorSpec:
    shape = tensor.shapeSignature if tensor.shapeSignature is not None else tensor.shape
    quantization, scale, zero_point = tensor.quantization, None, None
    if quantization is not None and quantization.scale is not None and len(quantization.scale):
        scale, zero_point = float(quantization.scale[0]), int(quantization.zeroPoint[0])
    shape = tuple(int(d) for d in (shape if shape is not None else []))
    return TensorSpec(_text(tensor.name), shape, types[tensor.type], scale, zero_point)


def _load_on_litert(content: bytes) -> tuple[dict, str | None]:
    """The signatures, and the first sentence of LiteRT's error if it cannot run the file.

    It runs once on zeros: a Flex op loads and fails to allocate, and XNNPACK fails only
    at the first invoke on some files (a sparse int8 FULLY_CONNECTED, TF 2.21).
    """
    from ai_edge_litert.interpreter import Interpreter

    signatures = {}
    try:
        interpreter = Interpreter(model_content=content)
        signatures = interpreter.get_signature_list()
        interpreter.allocate_tensors()
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
        interpreter.invoke()
    except (RuntimeError, ValueError) as error:
        text = str(error).strip() or type(error).__name__
        return signatures, text.splitlines()[0].split(". ")[0].rstrip(".") + "."
    return signatures, None


def _decoded_metadata(content: bytes) -> dict | None:
    try:
        from kerasopt.export.tflite_metadata import read_model_metadata
    except ImportError:  # a sibling module, written separately; absent in older trees
        return None
    return read_model_metadata(content)


def _associated_files(content: bytes) -> tuple[str, ...]:
    """Names in a zip appended to the flatbuffer (MediaPipe's associated files)."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return ()
    with zipfile.ZipFile(io.BytesIO(content)) as bundle:
        return tuple(bundle.namelist())
