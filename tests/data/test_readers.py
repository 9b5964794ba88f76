"""Toy data writers and the ImageNet / Cityscapes / COCO readers, value by
value on a few samples."""

import json
import os

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("albumentations")
pytest.importorskip("pycocotools")

from tfeff.data import make_toy as make_toy_cli  # noqa: E402
from tfeff.data.cityscapes import CityscapesReader  # noqa: E402
from tfeff.data.cityscapes import to_train_ids  # noqa: E402
from tfeff.data.coco import CocoReader  # noqa: E402
from tfeff.data.imagenet import ImageNetReader  # noqa: E402
from tfeff.data.toy import TOY_SYNSETS  # noqa: E402
from tfeff.data.toy import make_toy  # noqa: E402
from tfeff.data.toy import rle_uncompressed  # noqa: E402


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    for fmt in ("imagenet", "coco", "cityscapes"):
        make_toy(fmt, str(root / fmt))
    return root


def _first(dataset):
    return [np.asarray(t) for t in next(iter(dataset))]


# --- writers ------------------------------------------------------------------


def test_make_toy_command_writes_the_real_layout(tmp_path, capsys):
    assert (
        make_toy_cli.main(["--format", "cityscapes", "--out", str(tmp_path)])
        == 0
    )
    assert "wrote toy cityscapes" in capsys.readouterr().out
    image = (
        tmp_path
        / "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png"
    )
    mask = (
        tmp_path
        / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png"
    )
    assert image.is_file() and mask.is_file()
    assert Image.open(mask).mode == "L"
    with pytest.raises(SystemExit):
        make_toy_cli.main(["--format", "voc", "--out", str(tmp_path)])


def test_rle_is_cocos_column_major_run_length():
    from pycocotools import mask as mask_utils

    mask = np.zeros((5, 4), bool)
    mask[1:3, 1:4] = True
    mask[0, 0] = True
    rle = rle_uncompressed(mask)
    assert rle["size"] == [5, 4]
    # pycocotools decodes our uncompressed RLE back to the mask.
    compressed = mask_utils.frPyObjects(rle, 5, 4)
    np.testing.assert_array_equal(mask_utils.decode(compressed), mask)


# --- ImageNet -----------------------------------------------------------------


def test_imagenet_folder_labels_and_evaluation_crop(toy):
    reader = ImageNetReader(toy / "imagenet", "val")
    assert reader.layout == "folder"
    assert reader.class_names == sorted(TOY_SYNSETS)
    assert reader.num_examples == 32
    images, labels = _first(reader.dataset(64, batch_size=32))
    expected = [
        TOY_SYNSETS.index(os.path.basename(os.path.dirname(p)))
        for p in reader.files
    ]
    assert labels.tolist() == expected
    # Evaluation: shorter side to 64 + 32 = 96, centre 64x64 crop.
    import cv2

    original = np.asarray(Image.open(reader.files[0]).convert("RGB"))
    resized = cv2.resize(original, (96, 96), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(images[0], resized[16:80, 16:80], atol=2)


def test_imagenet_tfrecords_carry_the_same_images_and_labels(toy):
    folder = ImageNetReader(toy / "imagenet", "val")
    shards = ImageNetReader(toy / "imagenet" / "tfrecord", "val")
    assert shards.layout == "tfrecord"
    assert [os.path.basename(f) for f in shards.files] == [
        "validation-00000-of-00001"
    ]
    import tensorflow as tf

    # The TPU feature names, 1-based labels.
    record = next(iter(tf.data.TFRecordDataset(shards.files)))
    example = tf.train.Example.FromString(record.numpy())
    features = example.features.feature
    name = features["image/filename"].bytes_list.value[0].decode()
    synset = features["image/class/synset"].bytes_list.value[0].decode()
    assert features["image/class/label"].int64_list.value[0] == (
        sorted(TOY_SYNSETS).index(synset) + 1
    )
    # Its first decoded image equals the folder file of the same name.
    images, labels = _first(shards.dataset(64, batch_size=1))
    path = os.path.join(folder.data_dir, "val", synset, name)
    position = folder.files.index(path)
    folder_images = _first(folder.dataset(64, batch_size=32))[0]
    np.testing.assert_array_equal(images[0], folder_images[position])
    assert labels[0] == sorted(TOY_SYNSETS).index(synset)


def test_training_augmentation_is_deterministic_under_a_seed(toy):
    reader = ImageNetReader(toy / "imagenet", "train")
    a = _first(reader.dataset(32, batch_size=16, training=True, seed=3))
    b = _first(reader.dataset(32, batch_size=16, training=True, seed=3))
    c = _first(reader.dataset(32, batch_size=16, training=True, seed=4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_undecodable_images_are_skipped_counted_and_reported(tmp_path, toy):
    import shutil

    root = tmp_path / "imagenet"
    shutil.copytree(toy / "imagenet" / "val", root / "val")
    broken = root / "val" / TOY_SYNSETS[0] / "ILSVRC2012_val_99999999.JPEG"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    reader = ImageNetReader(root, "val")
    assert reader.num_examples == 33
    count = sum(len(labels) for _, labels in reader.dataset(32, batch_size=8))
    assert count == 32
    assert reader.errors.count == 1
    assert "ILSVRC2012_val_99999999.JPEG" in reader.errors.report()


def test_imagenet_errors_name_what_is_missing(tmp_path, toy):
    with pytest.raises(ValueError, match="Missing split folder"):
        ImageNetReader(toy / "imagenet", "test")
    with pytest.raises(ValueError, match="not a directory"):
        ImageNetReader(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="validation-"):
        ImageNetReader(tmp_path, "val", layout="tfrecord")
    with pytest.raises(ValueError, match="layout"):
        ImageNetReader(tmp_path, layout="lmdb")
    with pytest.raises(ValueError, match="image_size"):
        ImageNetReader(toy / "imagenet", "val").dataset(image_size=(64,))


# --- Cityscapes -----------------------------------------------------------------

# ../shared/reference/ecosystem.md §5.1: labelId -> trainId for the ids the
# toy scenes use (unlabeled 0 and ego vehicle 1 are ignored: 255).
TOY_TRAIN_IDS = {
    0: 255,
    1: 255,
    7: 0,
    8: 1,
    11: 2,
    17: 5,
    23: 10,
    24: 11,
    26: 13,
}


def test_cityscapes_masks_are_mapped_to_train_ids(toy):
    reader = CityscapesReader(toy / "cityscapes", "val")
    assert reader.num_examples == 8 and reader.num_classes == 19
    image_path, mask_path = reader.pairs[0]
    assert image_path.endswith("frankfurt_000000_000019_leftImg8bit.png")
    images, masks = _first(reader.dataset((64, 128), batch_size=3))
    label_ids = np.asarray(Image.open(mask_path))
    assert set(np.unique(label_ids)) <= set(TOY_TRAIN_IDS)
    expected = np.vectorize(TOY_TRAIN_IDS.get)(label_ids)
    np.testing.assert_array_equal(masks[0], expected)
    np.testing.assert_array_equal(
        images[0], np.asarray(Image.open(image_path).convert("RGB"))
    )
    assert 255 in masks[0] and 13 in masks[0]  # void pixels and cars


def test_cityscapes_training_crops_pad_the_mask_with_ignore(toy):
    reader = CityscapesReader(toy / "cityscapes", "train")
    images, masks = _first(
        reader.dataset(
            (96, 160), batch_size=6, training=True, seed=0, scale=(0.5, 0.6)
        )
    )
    # Scaled to at most 0.6 x (64, 128), then padded to 96x160: the border
    # is image 0 and mask 255.
    assert images.shape == (6, 96, 160, 3) and masks.shape == (6, 96, 160)
    assert (masks == 255).mean() > 0.4
    assert set(np.unique(masks)) <= set(TOY_TRAIN_IDS.values())


def test_cityscapes_label_table_and_errors(tmp_path, toy):
    from tfeff.data.cityscapes_labels import LABELS

    assert len(LABELS) == 35
    with pytest.raises(ValueError, match=r"label ids \[200\]"):
        to_train_ids(np.array([[7, 200]], np.uint8), "x_gtFine_labelIds.png")
    with pytest.raises(ValueError, match="Missing split folder"):
        CityscapesReader(toy / "cityscapes", "test")
    try:
        from cityscapesscripts.helpers import labels as reference
    except ImportError:
        return  # The table's source package is optional.
    assert [tuple(lab) for lab in LABELS] == [
        tuple(lab) for lab in reference.labels
    ]


# --- COCO -------------------------------------------------------------------------


def test_coco_category_mapping_and_boxes(toy):
    reader = CocoReader(toy / "coco", "val")
    assert reader.split == "val2017"
    assert reader.category_ids == [1, 3, 18]
    assert reader.class_names == ["person", "car", "dog"]
    assert [reader.label_to_category_id(i) for i in (1, 2, 3)] == [1, 3, 18]
    assert reader.category_id_to_label == {1: 1, 3: 2, 18: 3}
    data = json.load(open(reader.annotation_file))
    image = data["images"][0]
    anns = [a for a in data["annotations"] if a["image_id"] == image["id"]]
    boxes, labels, crowd = reader.annotations(image["id"])
    plain = [a for a in anns if not a["iscrowd"]]
    assert labels.tolist() == [
        reader.category_id_to_label[a["category_id"]] for a in plain
    ]
    x, y, w, h = plain[0]["bbox"]
    np.testing.assert_allclose(
        boxes[0],
        [
            x / image["width"],
            y / image["height"],
            (x + w) / image["width"],
            (y + h) / image["height"],
        ],
        rtol=1e-6,
    )
    # Evaluation keeps the normalized boxes through the resize.
    images, targets = next(iter(reader.dataset(96, batch_size=1)))
    count = int(targets["num_boxes"][0])
    assert count == len(plain)
    np.testing.assert_allclose(targets["boxes"][0, :count], boxes, atol=1e-5)
    assert targets["labels"][0, :count].numpy().tolist() == labels.tolist()
    assert not targets["labels"][0, count:].numpy().any()
    assert int(targets["image_id"][0]) == image["id"]


def test_coco_crowd_regions_stay_out_of_the_targets(toy):
    reader = CocoReader(toy / "coco", "train")
    data = json.load(open(reader.annotation_file))
    crowd = [a for a in data["annotations"] if a["iscrowd"]]
    assert crowd and isinstance(crowd[0]["segmentation"]["counts"], list)
    boxes, labels, crowd_boxes = reader.annotations(crowd[0]["image_id"])
    assert len(crowd_boxes) == 1
    plain = [
        a
        for a in data["annotations"]
        if a["image_id"] == crowd[0]["image_id"] and not a["iscrowd"]
    ]
    assert len(labels) == len(plain)


def test_coco_errors(tmp_path, toy):
    with pytest.raises(ValueError, match="instances_val2017.json"):
        CocoReader(tmp_path, "val")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "val2017").mkdir()
    (tmp_path / "annotations" / "instances_val2017.json").write_text("{broken")
    with pytest.raises(ValueError, match="does not parse"):
        CocoReader(tmp_path, "val")
    (tmp_path / "annotations" / "instances_val2017.json").write_text(
        json.dumps(
            {
                "images": [
                    {"id": 1, "width": 4, "height": 4, "file_name": "a.jpg"}
                ],
                "annotations": [
                    {
                        "id": 1,
                        "image_id": 1,
                        "category_id": 99,
                        "bbox": [0, 0, 1, 1],
                        "iscrowd": 0,
                        "area": 1,
                    }
                ],
                "categories": [{"id": 1, "name": "x"}],
            }
        )
    )
    with pytest.raises(ValueError, match="category_id 99"):
        CocoReader(tmp_path, "val")


@pytest.mark.parametrize("training", [False, True])
def test_chunked_augmentation_matches_one_element_per_call(training):
    """`augmented_pipeline(chunk_size=k)` (one numpy_function per k elements,
    as the ImageNet and Cityscapes readers run) yields the same elements,
    seeds and order as one call per element, failed elements dropped."""
    import tensorflow as tf

    from tfeff.data.augment import augmented_pipeline
    from tfeff.data.augment import over_chunk

    def load(seed, value):
        # A seed-dependent value; element 3 fails like an undecodable image.
        return np.float32(value * 1000 + seed % 997), value != 3

    def one(seed, value):
        out, ok = tf.numpy_function(load, [seed, value], [tf.float32, tf.bool])
        return tf.reshape(out, ()), tf.reshape(ok, ())

    def chunk(seeds, values):
        out, ok = tf.numpy_function(
            over_chunk(load), [seeds, values], [tf.float32, tf.bool]
        )
        return tf.reshape(out, (-1,)), tf.reshape(ok, (-1,))

    def run(to_numpy, chunk_size):
        data = tf.data.Dataset.range(11)
        pipeline = augmented_pipeline(
            data, to_numpy, training=training, seed=5, batch_size=2,
            shuffle_buffer=11, chunk_size=chunk_size,
        )  # fmt: skip
        return np.concatenate([b[0].numpy() for b in pipeline])

    expected = run(one, None)
    assert len(expected) == 10  # 11 elements, one failed
    assert 3 not in (expected // 1000).astype(int)
    np.testing.assert_array_equal(run(chunk, 4), expected)
