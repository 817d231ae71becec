"""TFLite metadata, the block MediaPipe Tasks reads: build it, attach it, read it back.

A phone app's classifier (MediaPipe `ImageClassifier`, `TextClassifier`) reads a model's
name, its input's meaning, its class names and its tokenizer from the TFLite metadata:
a `"TFLITE_METADATA"` buffer holding a flatbuffer of the metadata schema, plus the files
it names (`labels.txt`, `vocab.txt`) packed as an uncompressed zip after the model.

The metadata flatbuffer is built with the generated schema that `mediapipe` ships
(`mediapipe.tasks.metadata.metadata_schema_py_generated`) and `flatbuffers`;
`tflite-support`, the usual writer, cannot be installed beside TF 2.21 (it needs
protobuf < 4), and mediapipe's own writer module fails to import in mediapipe 1.2.3.
The model is re-packed with the TFLite schema `ai_edge_litert` ships.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

from kerasopt.core.errors import InvalidValueError, MissingDependencyError
from kerasopt.export.tflite_inspection import TFLITE_FILE_IDENTIFIER

MEDIAPIPE_REQUIREMENT = "mediapipe==1.2.3"
METADATA_BUFFER_NAME = "TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"
FILE_KINDS = ("labels", "vocabulary")


@dataclasses.dataclass(frozen=True)
class AssociatedFile:
    """A file packed with the model: class names (`"labels"`) or a tokenizer's vocabulary.

    Example:

    >>> AssociatedFile("labels.txt", b"cat\\ndog\\n", "The class names.").kind
    'labels'
    """

    name: str
    content: bytes
    description: str
    kind: str = "labels"

    def __post_init__(self):
        if self.kind not in FILE_KINDS:
            raise InvalidValueError(
                f"AssociatedFile {self.name!r}: kind must be one of {list(FILE_KINDS)}. "
                f"Received: kind={self.kind!r}."
            )


@dataclasses.dataclass(frozen=True)
class TensorDescription:
    """What one input or output tensor means, in the metadata's terms.

    Args:
        name: The tensor's name in the metadata (`"image"`, `"probability"`).
        description: One sentence for the app developer.
        content: `"image"` (an RGB image), or `"feature"` (anything else).
        value_range: `(min, max)` the tensor holds, written as its stats. Defaults to
            `None`.
        normalization: `(mean, std)` per channel, for a float image input. Defaults to
            `None`.
        files: Files attached to the tensor (an output's labels). Defaults to `()`.
        delimiter_pattern: A regex tokenizer's delimiter pattern, for a text input whose
            `files` holds its vocabulary. Defaults to `None`.

    Example:

    >>> TensorDescription("image", "A camera frame, RGB.", "image", value_range=(0, 255)).content
    'image'
    """

    name: str
    description: str
    content: str = "feature"
    value_range: tuple[float, float] | None = None
    normalization: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    files: tuple[AssociatedFile, ...] = ()
    delimiter_pattern: str | None = None


@dataclasses.dataclass(frozen=True)
class ModelDescription:
    """The model-level metadata: who made it, what it does, its tensors.

    Example:

    >>> image = TensorDescription("image", "A camera frame.", "image")
    >>> scores = TensorDescription("probability", "Class probabilities.")
    >>> ModelDescription("digits", "Handwritten digits.", inputs=(image,),
    ...                  outputs=(scores,)).version
    '1'
    """

    name: str
    description: str
    inputs: tuple[TensorDescription, ...]
    outputs: tuple[TensorDescription, ...]
    version: str = "1"
    author: str = "kerasopt"
    license: str = "Apache-2.0"

    @property
    def files(self) -> tuple[AssociatedFile, ...]:
        """Every file the tensors attach, in order."""
        return tuple(f for tensor in (*self.inputs, *self.outputs) for f in tensor.files)

    def min_parser_version(self) -> str:
        """The oldest metadata parser that reads every field used here.

        The versions are the metadata schema's own: a vocabulary file needs 1.0.1, a
        tokenizer (a tensor process unit) 1.2.1; everything else here is 1.0.0.
        """
        if any(t.delimiter_pattern for t in self.inputs):
            return "1.2.1"
        if any(f.kind == "vocabulary" for f in self.files):
            return "1.0.1"
        return "1.0.0"


def metadata_schema():
    """mediapipe's generated metadata schema module, or an error that names the install."""
    import importlib

    try:
        return importlib.import_module("mediapipe.tasks.metadata.metadata_schema_py_generated")
    except ImportError as error:
        raise MissingDependencyError(
            "Writing or reading TFLite metadata needs the metadata schema that mediapipe "
            f"ships, and mediapipe is not installed ({error}). Install it with: "
            f"pip install {MEDIAPIPE_REQUIREMENT}"
        ) from error


def build_metadata(description: ModelDescription) -> bytes:
    """The metadata flatbuffer (`M001`) for `description`.

    Example:

    >>> buffer = build_metadata(description)  # doctest: +SKIP
    >>> buffer[4:8]  # doctest: +SKIP
    b'M001'
    """
    import flatbuffers

    schema = metadata_schema()
    names = [f.name for f in description.files]
    if len(set(names)) != len(names):
        raise InvalidValueError(
            f"Model {description.name!r}: associated file names must be unique, they are "
            f"packed into one zip. Received: {names}."
        )
    subgraph = schema.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [_tensor_metadata(schema, t) for t in description.inputs]
    subgraph.outputTensorMetadata = [_tensor_metadata(schema, t) for t in description.outputs]
    metadata = schema.ModelMetadataT()
    metadata.name = description.name
    metadata.description = description.description
    metadata.version = description.version
    metadata.author = description.author
    metadata.license = description.license
    metadata.minParserVersion = description.min_parser_version()
    metadata.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(0)
    builder.Finish(metadata.Pack(builder), _METADATA_IDENTIFIER)
    return bytes(builder.Output())


def attach_metadata(model_content: bytes, description: ModelDescription) -> bytes:
    """`model_content` with `description` as its metadata and its files packed after it.

    Metadata already in the model is replaced. The files go into an uncompressed zip
    appended to the flatbuffer, where MediaPipe and LiteRT's metadata extractors look;
    the interpreter ignores the bytes after the model.

    Example:

    >>> bundle = attach_metadata(convert_to_tflite(model), description)  # doctest: +SKIP
    """
    from ai_edge_litert import schema_py_generated as tflite_schema

    # Re-packing drops whatever followed the flatbuffer, files of an earlier bundle too.
    model_content = bytes(model_content)
    metadata_buffer = tflite_schema.BufferT()
    metadata_buffer.data = list(build_metadata(description))
    model = tflite_schema.ModelT.InitFromPackedBuf(bytearray(model_content), 0)
    model.metadata = list(model.metadata or [])
    model.buffers = list(model.buffers or [])
    existing = [m for m in model.metadata if _decode(m.name) == METADATA_BUFFER_NAME]
    if existing:
        model.buffers[existing[0].buffer] = metadata_buffer
    else:
        entry = tflite_schema.MetadataT()
        entry.name = METADATA_BUFFER_NAME
        entry.buffer = len(model.buffers)
        model.buffers.append(metadata_buffer)
        model.metadata.append(entry)

    import flatbuffers

    builder = flatbuffers.Builder(len(model_content) + 1024)
    builder.Finish(model.Pack(builder), TFLITE_FILE_IDENTIFIER)
    packed = io.BytesIO(bytes(builder.Output()))
    if description.files:
        # ZIP_STORED: the extractors read the files in place, without inflating them.
        with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_STORED) as archive:
            for associated in description.files:
                archive.writestr(associated.name, associated.content)
    return packed.getvalue()


def read_model_metadata(content: bytes) -> dict | None:
    """The metadata of a `.tflite` file as a plain dict, or `None` when it has none.

    Reading needs mediapipe's schema too; without mediapipe this returns `None`.

    Example:

    >>> read_model_metadata(bundle)["outputs"][0]["files"][0]["name"]  # doctest: +SKIP
    'labels.txt'
    """
    from ai_edge_litert import schema_py_generated as tflite_schema

    try:
        schema = metadata_schema()
    except MissingDependencyError:
        return None
    content = bytes(content)
    model = tflite_schema.Model.GetRootAs(content, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _decode(entry.Name()) == METADATA_BUFFER_NAME:
            data = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
            metadata = schema.ModelMetadataT.InitFromPackedBuf(bytearray(data), 0)
            return _metadata_dict(metadata, associated_file_names(content))
    return None


def associated_file_names(content: bytes) -> list[str]:
    """Names of the files packed after the model (empty when there is no zip)."""
    source = io.BytesIO(bytes(content))
    if not zipfile.is_zipfile(source):
        return []
    with zipfile.ZipFile(source) as archive:
        return archive.namelist()


def read_associated_file(content: bytes, name: str) -> bytes:
    """One packed file's bytes; the error lists the names the file does hold."""
    names = associated_file_names(content)
    if name not in names:
        raise InvalidValueError(f"The model packs no file {name!r}; it packs {names}.")
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        return archive.read(name)


def _tensor_metadata(schema, tensor: TensorDescription):
    metadata = schema.TensorMetadataT()
    metadata.name = tensor.name
    metadata.description = tensor.description
    content = schema.ContentT()
    if tensor.content == "image":
        content.contentPropertiesType = schema.ContentProperties.ImageProperties
        content.contentProperties = schema.ImagePropertiesT()
        content.contentProperties.colorSpace = schema.ColorSpaceType.RGB
    else:
        content.contentPropertiesType = schema.ContentProperties.FeatureProperties
        content.contentProperties = schema.FeaturePropertiesT()
    metadata.content = content
    units = []
    if tensor.normalization is not None:
        options = schema.NormalizationOptionsT()
        options.mean, options.std = (list(map(float, v)) for v in tensor.normalization)
        units.append(_process_unit(schema, schema.ProcessUnitOptions.NormalizationOptions, options))
    if tensor.delimiter_pattern is not None:
        options = schema.RegexTokenizerOptionsT()
        options.delimRegexPattern = tensor.delimiter_pattern
        options.vocabFile = [_file_metadata(schema, f) for f in tensor.files]
        units.append(
            _process_unit(schema, schema.ProcessUnitOptions.RegexTokenizerOptions, options)
        )
    elif tensor.files:
        metadata.associatedFiles = [_file_metadata(schema, f) for f in tensor.files]
    metadata.processUnits = units or None
    if tensor.value_range is not None:
        metadata.stats = schema.StatsT()
        metadata.stats.min, metadata.stats.max = ([float(v)] for v in tensor.value_range)
    return metadata


def _process_unit(schema, options_type: int, options):
    unit = schema.ProcessUnitT()
    unit.optionsType = options_type
    unit.options = options
    return unit


def _file_metadata(schema, associated: AssociatedFile):
    metadata = schema.AssociatedFileT()
    metadata.name = associated.name
    metadata.description = associated.description
    metadata.type = (
        schema.AssociatedFileType.TENSOR_AXIS_LABELS
        if associated.kind == "labels"
        else schema.AssociatedFileType.VOCABULARY
    )
    return metadata


def _metadata_dict(metadata, packed: list[str]) -> dict:
    subgraph = (metadata.subgraphMetadata or [None])[0]

    def tensors(items):
        return [_tensor_dict(t) for t in (items or [])]

    return {
        "name": _decode(metadata.name),
        "description": _decode(metadata.description),
        "version": _decode(metadata.version),
        "author": _decode(metadata.author),
        "license": _decode(metadata.license),
        "min_parser_version": _decode(metadata.minParserVersion),
        "inputs": tensors(subgraph.inputTensorMetadata if subgraph else None),
        "outputs": tensors(subgraph.outputTensorMetadata if subgraph else None),
        "packed_files": packed,
    }


def _tensor_dict(tensor) -> dict:
    files = list(tensor.associatedFiles or [])
    units = []
    for unit in tensor.processUnits or []:
        options = unit.options
        if hasattr(options, "delimRegexPattern"):
            files += list(options.vocabFile or [])
            units.append({"regex_tokenizer": _decode(options.delimRegexPattern)})
        elif hasattr(options, "mean"):
            units.append({"normalization": {"mean": list(options.mean), "std": list(options.std)}})
    result = {
        "name": _decode(tensor.name),
        "description": _decode(tensor.description),
        "files": [{"name": _decode(f.name), "type": int(f.type)} for f in files],
        "process_units": units,
    }
    if tensor.stats is not None and tensor.stats.min is not None:
        result["range"] = [float(tensor.stats.min[0]), float(tensor.stats.max[0])]
    return result


def _decode(value) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value
