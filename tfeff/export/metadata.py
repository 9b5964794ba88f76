"""Standard TFLite Model Metadata for image classifiers, so that MediaPipe
Tasks' `ImageClassifier` and the LiteRT support libraries load a tfeff file
as it is.

The metadata is a `ModelMetadata` flatbuffer (schema `metadata_schema.fbs`
of tflite-support, file identifier "M001") stored in a model buffer named
"TFLITE_METADATA"; the files it names (the label file) are packed as a zip
archive appended to the model (what `MetadataPopulator` does). Only
features of metadata parser version 1.0.0 are used.

What it says, consistent with what the model does inside:
- input: an RGB image; tfeff models take pixels in [0, 255] and rescale and
  normalise them themselves, so the normalization the runtime applies is
  the identity (mean 0, std 1) and the range is [0, 255];
- output: one score per class (softmax probabilities by default), with
  the class names as `labels.txt` (TENSOR_AXIS_LABELS) when given;
- the model's name, description, version and license.
"""

import io
import zipfile

import flatbuffers

METADATA_BUFFER_NAME = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.0.0"
LABEL_FILE = "labels.txt"

# Enum and union values of metadata_schema.fbs.
_TENSOR_AXIS_LABELS = 2
_RGB = 1
_CONTENT_FEATURE = 1
_CONTENT_IMAGE = 2
_PROCESS_NORMALIZATION = 1


def _strings(builder, values):
    offsets = [builder.CreateString(v) for v in values]
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _floats(builder, values):
    builder.StartVector(4, len(values), 4)
    for value in reversed(values):
        builder.PrependFloat32(float(value))
    return builder.EndVector()


def _tables(builder, offsets):
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _table(builder, slots, fields):
    """A table of `slots` fields; `fields` maps slot -> (kind, value), kind
    one of "offset", "byte", "uint"."""
    builder.StartObject(slots)
    for slot, (kind, value) in sorted(fields.items()):
        if value is None:
            continue
        if kind == "offset":
            builder.PrependUOffsetTRelativeSlot(slot, value, 0)
        elif kind == "byte":
            builder.PrependUint8Slot(slot, value, 0)
        elif kind == "uint":
            builder.PrependUint32Slot(slot, value, 0)
    return builder.EndObject()


def _string(builder, text):
    return None if text is None else builder.CreateString(text)


def _associated_file(builder, name, description, kind):
    # AssociatedFile: name, description, type, locale, version.
    name, description = _string(builder, name), _string(builder, description)
    return _table(
        builder,
        5,
        {0: ("offset", name), 1: ("offset", description), 2: ("byte", kind)},
    )


def _stats(builder, low, high):
    # Stats: max, min.
    highs, lows = _floats(builder, high), _floats(builder, low)
    return _table(builder, 2, {0: ("offset", highs), 1: ("offset", lows)})


def _input_tensor(builder, mean, std, low, high):
    name = builder.CreateString("image")
    description = builder.CreateString(
        "RGB image, pixels in [0, 255]; the model rescales and normalises "
        "them itself."
    )
    image = _table(builder, 2, {0: ("byte", _RGB)})  # ImageProperties
    content = _table(  # Content: properties type, properties, range.
        builder,
        3,
        {0: ("byte", _CONTENT_IMAGE), 1: ("offset", image)},
    )
    means, stds = _floats(builder, mean), _floats(builder, std)
    normalization = _table(
        builder, 2, {0: ("offset", means), 1: ("offset", stds)}
    )
    unit = _table(  # ProcessUnit: options type, options.
        builder,
        2,
        {0: ("byte", _PROCESS_NORMALIZATION), 1: ("offset", normalization)},
    )
    units = _tables(builder, [unit])
    stats = _stats(builder, low, high)
    # TensorMetadata: name, description, dimension_names, content,
    # process_units, stats, associated_files.
    return _table(
        builder,
        7,
        {
            0: ("offset", name),
            1: ("offset", description),
            3: ("offset", content),
            4: ("offset", units),
            5: ("offset", stats),
        },
    )


def _output_tensor(builder, labels, scores):
    name = builder.CreateString("probability" if scores else "score")
    description = builder.CreateString(
        "Probabilities of the classes."
        if scores
        else "Scores (logits) of the classes."
    )
    feature = _table(builder, 0, {})  # FeatureProperties
    content = _table(
        builder, 3, {0: ("byte", _CONTENT_FEATURE), 1: ("offset", feature)}
    )
    stats = _stats(builder, [0.0], [1.0]) if scores else None
    files = None
    if labels:
        files = _tables(
            builder,
            [
                _associated_file(
                    builder,
                    LABEL_FILE,
                    "Class names, one per line, in output order.",
                    _TENSOR_AXIS_LABELS,
                )
            ],
        )
    return _table(
        builder,
        7,
        {
            0: ("offset", name),
            1: ("offset", description),
            3: ("offset", content),
            5: ("offset", stats),
            6: ("offset", files),
        },
    )


def classifier_metadata(
    *,
    name,
    description,
    version,
    labels=None,
    scores=True,
    author=None,
    license=None,
):
    """The `ModelMetadata` flatbuffer (bytes) of a tfeff image classifier.

    Args:
        name, description, version: str.
        labels: list of str or None. Class names in output order.
        scores: bool. Whether the outputs are probabilities (softmax).
        author, license: str or None.
    """
    builder = flatbuffers.Builder(1024)
    inputs = _tables(
        builder, [_input_tensor(builder, [0.0], [1.0], [0.0], [255.0])]
    )
    outputs = _tables(builder, [_output_tensor(builder, labels, scores)])
    subgraph_name = builder.CreateString("image_classifier")
    # SubGraphMetadata: name, description, input/output tensor metadata, ...
    subgraph = _table(
        builder,
        10,
        {0: ("offset", subgraph_name), 2: ("offset", inputs),
         3: ("offset", outputs)},
    )  # fmt: skip
    subgraphs = _tables(builder, [subgraph])
    fields = {
        0: ("offset", builder.CreateString(name)),
        1: ("offset", builder.CreateString(description)),
        2: ("offset", builder.CreateString(version)),
        3: ("offset", subgraphs),
        4: ("offset", _string(builder, author)),
        5: ("offset", _string(builder, license)),
        7: ("offset", builder.CreateString(MIN_PARSER_VERSION)),
    }
    # ModelMetadata: name, description, version, subgraph_metadata, author,
    # license, associated_files, min_parser_version.
    root = _table(builder, 8, fields)
    builder.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def label_archive(labels):
    """`labels.txt` as the zip archive appended to the model file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(LABEL_FILE, "".join(f"{label}\n" for label in labels))
    return buffer.getvalue()


def check_labels(labels, num_classes):
    """`labels` as a list of str, one per class; ValueError otherwise."""
    if labels is None:
        return None
    if isinstance(labels, str) or not all(isinstance(x, str) for x in labels):
        raise TypeError(
            f"`labels` must be a list of class names. Received: labels={labels!r}"
        )
    labels = list(labels)
    if len(labels) != num_classes:
        raise ValueError(
            f"`labels` must name each of the model's {num_classes} classes. "
            f"Received {len(labels)} labels."
        )
    bad = [x for x in labels if not x.strip() or "\n" in x]
    if bad:
        raise ValueError(
            f"Class names must be non-empty single lines. Received: {bad[:3]}"
        )
    return labels


def read_labels(path):
    """The class names packed in a `.tflite` file, or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(LABEL_FILE).decode("utf-8").splitlines()
    except (zipfile.BadZipFile, KeyError):
        return None
