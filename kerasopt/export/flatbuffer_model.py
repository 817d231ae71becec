"""Unpacking a `.tflite` flatbuffer into LiteRT's object tree, and packing it back.

`strip_tensor_names` and `add_serving_signature` edit a converted file through the
object API of LiteRT's generated schema (`ModelT`). Packing it back keeps weight
buffers on the 16-byte boundary the schema asks for, and refuses the files it cannot
re-pack whole.
"""

from __future__ import annotations

import io
import zipfile

from kerasopt.core.errors import InvalidValueError
from kerasopt.export.tflite_inspection import TFLITE_FILE_IDENTIFIER, check_tflite_content

#: Alignment of weight buffers in the file (the schema's `force_align`).
BUFFER_ALIGNMENT = 16


def unpack_tflite(owner: str, content: bytes):
    """`content` as LiteRT's `ModelT`, refused where re-packing would lose part of it.

    Raises:
        InvalidValueError: `content` is not a TFLite flatbuffer, carries a zip of
            associated files after it (a bundle: edit before `attach_metadata`), or
            keeps its weights outside the flatbuffer (files over 2 GB).

    Example:

    >>> model = unpack_tflite("my_tool", content)  # doctest: +SKIP
    >>> len(pack_tflite(model)) > 0  # doctest: +SKIP
    True
    """
    from ai_edge_litert import schema_py_generated as schema

    content = check_tflite_content(owner, content)
    if zipfile.is_zipfile(io.BytesIO(content)):
        raise InvalidValueError(
            f"{owner} received a bundle: a zip of associated files follows the model, "
            "and re-packing would drop it. Edit the converter's file, then attach the "
            "metadata (build_image_bundle does both)."
        )
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    if any((buffer.offset or 0) > 1 for buffer in model.buffers or []):
        raise InvalidValueError(
            f"{owner} cannot re-pack a file whose weights are stored after the "
            "flatbuffer (buffer offsets, used by files over 2 GB). Leave it as converted."
        )
    return model


def pack_tflite(model, size_hint: int = 1024) -> bytes:
    """A `ModelT` as `.tflite` bytes, weight buffers aligned to `BUFFER_ALIGNMENT`.

    `size_hint` is the builder's first allocation: the unpacked file's length spares
    it the copies of growing.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    aligned = _aligned_buffer_class(schema)
    for buffer in model.buffers or []:
        buffer.__class__ = aligned
    builder = flatbuffers.Builder(size_hint)
    builder.Finish(model.Pack(builder), TFLITE_FILE_IDENTIFIER)
    return bytes(builder.Output())


def tensor_indices(values) -> list[int]:
    """A subgraph's or signature's tensor index vector as a list (`None` is empty)."""
    return [] if values is None else [int(v) for v in values]


def _aligned_buffer_class(schema):
    """`BufferT` whose data starts on a 16-byte boundary.

    The schema asks for it (`force_align: 16`) so that weights can be read in place
    with vector loads; the generated Python `Pack` aligns to 1.
    """

    class AlignedBufferT(schema.BufferT):
        def Pack(self, builder):
            data = None
            if self.data is not None:
                raw = bytes(bytearray(self.data))
                builder.StartVector(1, len(raw), BUFFER_ALIGNMENT)
                builder.head = builder.head - len(raw)
                builder.Bytes[builder.head : builder.head + len(raw)] = raw
                builder.vectorNumElems = len(raw)
                data = builder.EndVector()
            schema.BufferStart(builder)
            if data is not None:
                schema.BufferAddData(builder, data)
            schema.BufferAddOffset(builder, self.offset)
            schema.BufferAddSize(builder, self.size)
            return schema.BufferEnd(builder)

    return AlignedBufferT
