"""Toy data sets of drawn shapes, written in the real on-disk layouts.

Tests and smoke runs go through the real readers with these: the files
have the real names, folders, image formats, annotation schemas and
TFRecord feature names (../shared/reference/ecosystem.md §5), only the
pictures are small and procedural.

- ImageNet: `train/<wnid>/<wnid>_<n>.JPEG`, `val/<wnid>/ILSVRC2012_val_<n>.JPEG`
  and, under `tfrecord/`, the TPU tooling's shards `train-%05d-of-%05d` /
  `validation-%05d-of-%05d` with its features (`image/encoded`,
  `image/class/label` = sorted synset index + 1, ...). Each class is one
  kind of shape.
- COCO: `annotations/instances_{train,val}2017.json` and
  `{train,val}2017/<id:012d>.jpg`; non-contiguous category ids, polygon
  segmentations, and crowd regions (`iscrowd=1`, uncompressed RLE).
- Cityscapes: `leftImg8bit/{split}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png`
  and `gtFine/{split}/{city}/..._gtFine_labelIds.png` (labelIds, not
  trainIds: sky, building, road, sidewalk, cars, people, and void pixels).

Command line: `python -m tfeff.data.make_toy --format imagenet --out DIR`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import io
import os

import numpy as np
from PIL import Image
from PIL import ImageDraw

from tfeff.files import atomic_write_bytes
from tfeff.files import atomic_write_json

# Real ImageNet synsets (sorted order = label order): tench, goldfish,
# great white shark, tiger shark.
TOY_SYNSETS = ("n01440764", "n01443537", "n01484850", "n01491361")
SHAPES = ("disc", "square", "triangle", "bars")
# Non-contiguous COCO ids, as in the real data set (1..90 with gaps).
TOY_COCO_CATEGORIES = (
    {"id": 1, "name": "person", "supercategory": "person", "shape": "triangle"},
    {"id": 3, "name": "car", "supercategory": "vehicle", "shape": "square"},
    {"id": 18, "name": "dog", "supercategory": "animal", "shape": "disc"},
)
TOY_CITIES = {"train": ("aachen", "bochum"), "val": ("frankfurt",)}
FORMATS = ("imagenet", "coco", "cityscapes")


def _background(rng, height, width):
    base = rng.integers(60, 200, 3)
    noise = rng.normal(0, 10, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _shape_polygon(kind, box):
    """Polygon (list of (x, y)) of a shape inside box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    if kind == "triangle":
        return [((x0 + x1) / 2, y0), (x1, y1), (x0, y1)]
    if kind == "disc":
        cx, cy, rx, ry = (
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            (x1 - x0) / 2,
            (y1 - y0) / 2,
        )
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _draw(image, kind, box, color):
    """Draws a shape; returns its mask."""
    height, width = image.shape[:2]
    mask_image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask_image)
    if kind == "bars":
        x0, y0, x1, y1 = box
        step = max(2, int((x1 - x0) / 6))
        for x in range(int(x0), int(x1), 2 * step):
            draw.rectangle([x, y0, min(x + step, x1) - 1, y1 - 1], fill=1)
    else:
        draw.polygon(_shape_polygon(kind, box), fill=1)
    mask = np.asarray(mask_image, dtype=bool)
    image[mask] = color
    return mask


def _encode(image, fmt):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, quality=92)
    return buffer.getvalue()


def _random_box(rng, size, low=0.3, high=0.7):
    extent = rng.uniform(low, high) * size
    x0, y0 = rng.uniform(0, size - extent, 2)
    return (float(x0), float(y0), float(x0 + extent), float(y0 + extent))


# --- ImageNet ----------------------------------------------------------------


# One hue per class as well as one shape, so that a two-epoch smoke run
# of a recipe learns something.
_CLASS_COLORS = ((220, 40, 40), (40, 190, 40), (40, 70, 220), (230, 200, 40))


def _imagenet_image(rng, label, size):
    image = _background(rng, size, size)
    color = np.clip(
        np.asarray(_CLASS_COLORS[label % 4]) + rng.integers(-25, 26, 3), 0, 255
    )
    _draw(image, SHAPES[label % len(SHAPES)], _random_box(rng, size), color)
    return image


def _tfrecord_example(encoded, filename, label, synset, size):
    import tensorflow as tf

    def _bytes(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def _int(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    features = {
        "image/encoded": _bytes(encoded),
        "image/format": _bytes(b"JPEG"),
        "image/filename": _bytes(filename.encode()),
        "image/height": _int(size),
        "image/width": _int(size),
        "image/colorspace": _bytes(b"RGB"),
        "image/channels": _int(3),
        # imagenet_to_gcs.py: 1..1000, sorted synset index + 1.
        "image/class/label": _int(label + 1),
        "image/class/synset": _bytes(synset.encode()),
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


def write_toy_imagenet(out, *, per_class=(32, 8), size=64, shards=2, seed=0):
    """ImageNet in both layouts under `out`; returns a summary dict.

    Args:
        per_class: (train, val) images per class.
        shards: TFRecord shards for train (validation gets 1).
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    counts = dict(zip(("train", "val"), per_class))
    records = {"train": [], "val": []}
    for split, count in counts.items():
        for label, synset in enumerate(TOY_SYNSETS):
            for n in range(count):
                image = _imagenet_image(rng, label, size)
                if split == "train":
                    name = f"{synset}_{n + 1}.JPEG"
                else:
                    name = f"ILSVRC2012_val_{label * count + n + 1:08d}.JPEG"
                encoded = _encode(image, "JPEG")
                atomic_write_bytes(
                    os.path.join(out, split, synset, name), encoded
                )
                records[split].append((encoded, name, label, synset))
    tfrecord_dir = os.path.join(out, "tfrecord")
    os.makedirs(tfrecord_dir, exist_ok=True)
    for split, prefix, num_shards in (
        ("train", "train", shards),
        ("val", "validation", 1),
    ):
        items = records[split]
        order = rng.permutation(len(items))
        for shard in range(num_shards):
            path = os.path.join(
                tfrecord_dir, f"{prefix}-{shard:05d}-of-{num_shards:05d}"
            )
            with tf.io.TFRecordWriter(f"{path}.partial") as writer:
                for index in order[shard::num_shards]:
                    encoded, name, label, synset = items[index]
                    example = _tfrecord_example(
                        encoded, name, label, synset, size
                    )
                    writer.write(example.SerializeToString())
            os.replace(f"{path}.partial", path)
    return {
        "format": "imagenet",
        "classes": list(TOY_SYNSETS),
        "train": len(records["train"]),
        "val": len(records["val"]),
        "tfrecord_shards": {"train": shards, "validation": 1},
    }


# --- COCO --------------------------------------------------------------------


def rle_uncompressed(mask):
    """COCO's uncompressed RLE of a boolean mask: column-major run lengths
    starting with a (possibly empty) run of zeros."""
    flat = np.asarray(mask, dtype=np.uint8).flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    return {"counts": counts, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def write_toy_coco(out, *, images=(48, 8), size=96, seed=0):
    """COCO 2017 layout under `out`; returns a summary dict."""
    rng = np.random.default_rng(seed)
    categories = [
        {k: c[k] for k in ("id", "name", "supercategory")}
        for c in TOY_COCO_CATEGORIES
    ]
    summary = {"format": "coco", "categories": categories}
    annotation_id = 1
    for split, count in zip(("train", "val"), images):
        image_records, annotations = [], []
        for n in range(count):
            image_id = (1 if split == "train" else 500000) + n * 7
            height, width = size, size + 16 * (n % 2)  # some non-square
            image = _background(rng, height, width)
            for _ in range(int(rng.integers(1, 4))):
                category = TOY_COCO_CATEGORIES[int(rng.integers(0, 3))]
                extent = rng.uniform(0.2, 0.45) * height
                x0 = rng.uniform(0, width - extent)
                y0 = rng.uniform(0, height - extent)
                box = (x0, y0, x0 + extent, y0 + extent)
                color = rng.integers(0, 256, 3)
                mask = _draw(image, category["shape"], box, color)
                polygon = [
                    round(float(v), 2)
                    for point in _shape_polygon(category["shape"], box)
                    for v in point
                ]
                ys, xs = np.nonzero(mask)
                annotations.append(
                    {
                        "id": annotation_id,
                        "image_id": image_id,
                        "category_id": category["id"],
                        "segmentation": [polygon],
                        "area": float(mask.sum()),
                        "bbox": [
                            float(xs.min()),
                            float(ys.min()),
                            float(xs.max() + 1 - xs.min()),
                            float(ys.max() + 1 - ys.min()),
                        ],
                        "iscrowd": 0,
                    }
                )
                annotation_id += 1
            if n % 4 == 3:
                # A crowd region (a cluster of small discs), as COCO marks
                # groups it does not annotate one by one.
                mask = np.zeros((height, width), bool)
                cx, cy = (
                    rng.uniform(10, width - 30),
                    rng.uniform(10, height - 30),
                )
                for k in range(4):
                    box = (cx + 5 * k, cy, cx + 5 * k + 6, cy + 6)
                    mask |= _draw(image, "disc", box, (250, 250, 250))
                ys, xs = np.nonzero(mask)
                annotations.append(
                    {
                        "id": annotation_id,
                        "image_id": image_id,
                        "category_id": 1,
                        "segmentation": rle_uncompressed(mask),
                        "area": float(mask.sum()),
                        "bbox": [
                            float(xs.min()),
                            float(ys.min()),
                            float(xs.max() + 1 - xs.min()),
                            float(ys.max() + 1 - ys.min()),
                        ],
                        "iscrowd": 1,
                    }
                )
                annotation_id += 1
            file_name = f"{image_id:012d}.jpg"
            atomic_write_bytes(
                os.path.join(out, f"{split}2017", file_name),
                _encode(image, "JPEG"),
            )
            image_records.append(
                {
                    "id": image_id,
                    "width": width,
                    "height": height,
                    "file_name": file_name,
                    "license": 1,
                    "date_captured": "2026-11-23 00:00:00",
                }
            )
        atomic_write_json(
            os.path.join(out, "annotations", f"instances_{split}2017.json"),
            {
                "info": {"description": "tfeff toy COCO", "version": "1.0"},
                "licenses": [{"id": 1, "name": "CC0", "url": ""}],
                "images": image_records,
                "annotations": annotations,
                "categories": categories,
            },
        )
        summary[split] = count
    return summary


# --- Cityscapes --------------------------------------------------------------

# labelIds used by the toy scenes (cityscapesScripts labels.py).
_UNLABELED, _EGO, _ROAD, _SIDEWALK, _BUILDING, _SKY = 0, 1, 7, 8, 11, 23
_PERSON, _CAR, _POLE = 24, 26, 17


def _city_scene(rng, height, width):
    ids = np.full((height, width), _BUILDING, np.uint8)
    horizon = int(height * rng.uniform(0.3, 0.45))
    ids[:horizon] = _SKY
    road_top = int(height * rng.uniform(0.6, 0.7))
    ids[road_top:] = _ROAD
    curb = int(width * rng.uniform(0.1, 0.25))
    ids[road_top:, :curb] = _SIDEWALK
    for _ in range(int(rng.integers(1, 3))):
        w = int(width * rng.uniform(0.12, 0.22))
        x = int(rng.integers(curb, width - w))
        top = road_top - int(w * 0.4)
        ids[top : top + int(w * 0.6), x : x + w] = _CAR
    x = int(rng.integers(0, curb + 1))
    ids[horizon : road_top + 4, x : x + max(2, width // 40)] = _POLE
    w = max(3, width // 30)
    x = int(rng.integers(0, width - w))
    ids[road_top - 3 * w : road_top + w, x : x + w] = _PERSON
    ids[-max(2, height // 20) :] = _EGO  # the car's bonnet: void
    ids[:2, :2] = _UNLABELED
    palette = {
        _SKY: (70, 130, 180),
        _BUILDING: (90, 80, 75),
        _ROAD: (110, 100, 110),
        _SIDEWALK: (200, 150, 190),
        _CAR: (20, 20, 130),
        _POLE: (150, 150, 150),
        _PERSON: (200, 40, 60),
        _EGO: (30, 30, 30),
        _UNLABELED: (0, 0, 0),
    }
    image = np.zeros((height, width, 3), np.float32)
    for label, color in palette.items():
        image[ids == label] = color
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), ids


def write_toy_cityscapes(out, *, images=(32, 8), size=(64, 128), seed=0):
    """Cityscapes fine-annotation layout under `out`; `size` is (h, w)."""
    rng = np.random.default_rng(seed)
    summary = {"format": "cityscapes"}
    for split, count in zip(("train", "val"), images):
        cities = TOY_CITIES[split]
        for n in range(count):
            city = cities[n % len(cities)]
            stem = f"{city}_{n:06d}_{19 + n:06d}"
            image, ids = _city_scene(rng, *size)
            atomic_write_bytes(
                os.path.join(
                    out, "leftImg8bit", split, city, f"{stem}_leftImg8bit.png"
                ),
                _encode(image, "PNG"),
            )
            atomic_write_bytes(
                os.path.join(
                    out, "gtFine", split, city, f"{stem}_gtFine_labelIds.png"
                ),
                _encode(ids, "PNG"),
            )
        summary[split] = count
    return summary


def make_toy(fmt, out, **kwargs):
    """Writes the toy data set `fmt` (one of `FORMATS`) under `out`."""
    writers = {
        "imagenet": write_toy_imagenet,
        "coco": write_toy_coco,
        "cityscapes": write_toy_cityscapes,
    }
    if fmt not in writers:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: {fmt!r}"
        )
    os.makedirs(out, exist_ok=True)
    summary = writers[fmt](out, **kwargs)
    atomic_write_json(os.path.join(out, "TOY_DATA.json"), summary)
    return summary
