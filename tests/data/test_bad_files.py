"""Bad files in a data set are skipped, named once and counted (as files,
not reads); a data set that cannot be split is refused before any work;
every image kind decodes to the right 8-bit RGB (issue 20, items 2-3).

Before: a dangling `.JPEG` link aborted the ImageNet reader's process
(SIGABRT) mid-epoch, 3 bad files were reported as 5, a truncated JPEG in a
`folder:` data set ended in `OSError: Truncated File Read` naming no file,
one image per class raised IndexError, 16-bit PNGs came out all 255, and a
bad image in `tfeff-export --representative-data` ended in TensorFlow's
InvalidArgumentError."""

import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("albumentations")

from tfeff.data import load_image_folder  # noqa: E402
from tfeff.data.augment import decode_image  # noqa: E402
from tfeff.data.imagenet import ImageNetReader  # noqa: E402
from tfeff.data.images import DecodeErrors  # noqa: E402
from tfeff.data.images import open_rgb  # noqa: E402
from tfeff.data.toy import TOY_SYNSETS  # noqa: E402
from tfeff.data.toy import make_toy  # noqa: E402

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    make_toy("imagenet", str(root / "imagenet"))
    return root


def _jpeg(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _bad_imagenet_val(toy, tmp_path):
    """The toy val split (32 images) plus 3 bad files."""
    root = tmp_path / "imagenet"
    shutil.copytree(toy / "imagenet" / "val", root / "val")
    folder = root / "val" / TOY_SYNSETS[0]
    os.symlink(tmp_path / "gone.JPEG", folder / "ILSVRC2012_val_90000001.JPEG")
    (folder / "ILSVRC2012_val_90000002.JPEG").write_bytes(b"\xff\xd8 no jpeg")
    (folder / "ILSVRC2012_val_90000003.JPEG").mkdir()  # a folder, named so
    return root


def test_imagenet_skips_unopenable_files_and_counts_each_once(
    toy, tmp_path, capfd
):
    reader = ImageNetReader(_bad_imagenet_val(toy, tmp_path), "val")
    assert reader.num_examples == 35
    data = reader.dataset(32, batch_size=8)
    for _ in range(2):  # two epochs: the same three files, counted once
        assert sum(len(labels) for _, labels in data) == 32
    assert reader.errors.count == 3
    err = capfd.readouterr().err
    for number in ("90000001", "90000002", "90000003"):
        assert err.count(f"ILSVRC2012_val_{number}.JPEG") == 1
    assert "No such file or directory" in err
    assert "3 image files were skipped" in reader.errors.report()


@pytest.mark.slow  # 10 s, a child process; the in-process test above reads
# the same files.
def test_imagenet_dangling_link_does_not_abort_a_process(toy, tmp_path):
    # The failure was a SIGABRT of the whole process: checked in a child.
    root = _bad_imagenet_val(toy, tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from tfeff.data.imagenet import ImageNetReader;"
        "r = ImageNetReader(sys.argv[1], 'val');"
        "n = sum(len(l) for _, l in r.dataset(32, batch_size=8, "
        "training=True, seed=0));"
        "print(n, r.errors.count)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), ROOT],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["32", "3"]


def test_tfrecord_shards_that_cannot_be_read_are_skipped(toy, tmp_path):
    source = toy / "imagenet" / "tfrecord"
    shards = sorted(p.name for p in source.glob("train-*"))
    assert len(shards) == 2
    for name in shards:
        shutil.copy(source / name, tmp_path / name)
    whole = ImageNetReader(tmp_path, "train")
    count = sum(len(labels) for _, labels in whole.dataset(32, batch_size=16))
    # The second shard cut in the middle of a record, and a third shard
    # that is a dangling link.
    second = tmp_path / shards[1]
    second.write_bytes(second.read_bytes()[: second.stat().st_size // 2])
    os.symlink(tmp_path / "gone", tmp_path / "train-00002-of-00003")
    reader = ImageNetReader(tmp_path, "train")
    assert reader.errors.count == 1  # the link, named at construction
    assert "train-00002-of-00003" in reader.errors.report()
    left = sum(len(labels) for _, labels in reader.dataset(32, batch_size=16))
    assert count // 2 <= left < count  # the cut shard's first half kept
    with pytest.raises(ValueError, match="None of the 1 TFRecord shards"):
        for name in shards:
            os.remove(tmp_path / name)
        ImageNetReader(tmp_path, "train")


def test_the_count_is_of_files_and_each_is_named_once(capfd):
    errors = DecodeErrors(named=2)
    for _ in range(3):
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            errors.add(name, "bad")
    assert errors.count == 3
    err = capfd.readouterr().err
    assert err.count("skipped a.jpg: bad") == 1
    assert "c.jpg" not in err and "counted, not named" in err


# --- decoding every kind of image ----------------------------------------


def _kinds():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    deep = (grey.astype(np.uint16) * 257).astype(np.uint16)  # 16-bit grey
    palette = Image.fromarray(rgb).quantize(16)
    expected_palette = np.asarray(palette.convert("RGB"))
    grey3 = np.repeat(grey[..., None], 3, -1)
    return {
        "rgb8": (Image.fromarray(rgb), rgb),
        "grey8": (Image.fromarray(grey), grey3),
        "grey16": (Image.fromarray(deep), grey3),
        "grey_alpha": (Image.fromarray(grey).convert("LA"), grey3),
        "rgba": (Image.fromarray(np.dstack([rgb, grey])), rgb),
        "palette": (palette, expected_palette),
    }


@pytest.mark.parametrize("kind", sorted(_kinds()))
def test_every_image_kind_decodes_to_8_bit_rgb(tmp_path, kind):
    image, expected = _kinds()[kind]
    path = tmp_path / f"{kind}.png"
    image.save(path)
    # The folder/export path (Pillow) and the tf.data readers' (OpenCV).
    np.testing.assert_array_equal(open_rgb(path), expected)
    decoded = decode_image(path.read_bytes(), str(path), DecodeErrors())
    np.testing.assert_allclose(decoded, expected, atol=1)


def test_a_16_bit_rgb_png_is_scaled_not_clipped(tmp_path):
    import cv2

    rgb = np.random.default_rng(1).integers(0, 256, (4, 4, 3), np.uint16)
    path = str(tmp_path / "deep.png")
    cv2.imwrite(path, (rgb * 257)[..., ::-1])  # 16-bit, BGR order
    np.testing.assert_array_equal(open_rgb(path), rgb.astype(np.uint8))


# --- folder: data sets --------------------------------------------------------


def _tree(root, per_class, classes=("cat", "dog")):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)
            (root / name / f"{i}.jpg").write_bytes(_jpeg(pixels))


def test_folder_skips_truncated_and_undecodable_images(tmp_path, capfd):
    _tree(tmp_path, per_class=4)
    good = (tmp_path / "cat" / "0.jpg").read_bytes()
    (tmp_path / "cat" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "dog" / "text.png").write_text("not an image")
    os.symlink(tmp_path / "gone.jpg", tmp_path / "dog" / "link.jpg")
    data = load_image_folder(str(tmp_path), resolution=16)
    assert len(data.x_train) + len(data.x_val) == 8
    assert len(data.skipped) == 3
    assert "3 unreadable files skipped" in data.describe()
    err = capfd.readouterr().err
    assert "truncated.jpg: the file is truncated" in err
    assert "text.png: not an image file" in err
    assert "link.jpg: No such file or directory" in err


@pytest.mark.parametrize(
    "per_class, message",
    [
        (1, "'cat' 1 of 1, 'dog' 1 of 1"),
        (0, "holds no images"),
    ],
)
def test_a_folder_that_cannot_be_split_is_refused(tmp_path, per_class, message):
    _tree(tmp_path, per_class=per_class)
    with pytest.raises(ValueError, match=message):
        load_image_folder(str(tmp_path))


def test_a_class_left_with_one_readable_image_is_refused(tmp_path):
    _tree(tmp_path, per_class=3)
    for name in ("1.jpg", "2.jpg"):
        (tmp_path / "dog" / name).write_bytes(b"broken")
    with pytest.raises(ValueError, match=r"'dog' 1 of 3"):
        load_image_folder(str(tmp_path))


def test_two_images_per_class_put_one_on_each_side(tmp_path):
    _tree(tmp_path, per_class=2, classes=("a", "b", "c"))
    data = load_image_folder(str(tmp_path), validation_fraction=0.8)
    assert sorted(data.y_train) == [0, 1, 2] and sorted(data.y_val) == [0, 1, 2]


def test_export_representative_data_skips_bad_images(tmp_path, capfd):
    pytest.importorskip("tensorflow")
    from tfeff.export.cli import load_images

    _tree(tmp_path, per_class=2)
    (tmp_path / "cat" / "bad.jpg").write_bytes(b"\xff\xd8 broken")
    errors = DecodeErrors()
    images = load_images(str(tmp_path), (8, 8, 3), limit=10, errors=errors)
    assert images.shape == (4, 8, 8, 3) and errors.count == 1
    assert "bad.jpg" in capfd.readouterr().err
    for name in os.listdir(tmp_path / "dog"):
        (tmp_path / "dog" / name).write_bytes(b"x")
    for name in os.listdir(tmp_path / "cat"):
        (tmp_path / "cat" / name).write_bytes(b"x")
    with pytest.raises(ValueError, match="None of the 5 image files"):
        load_images(str(tmp_path), (8, 8, 3), limit=10)


def test_cityscapes_and_coco_skip_unopenable_files(tmp_path, capfd):
    pytest.importorskip("pycocotools")
    from tfeff.data.cityscapes import CityscapesReader
    from tfeff.data.coco import CocoReader

    make_toy("cityscapes", str(tmp_path / "cityscapes"))
    reader = CityscapesReader(tmp_path / "cityscapes", "val")
    mask = sorted(
        (tmp_path / "cityscapes" / "gtFine" / "val").glob("*/*_labelIds.png")
    )[0]
    mask.unlink()
    os.symlink(tmp_path / "gone.png", mask)
    total = sum(len(m) for _, m in reader.dataset((32, 64), batch_size=4))
    assert total == reader.num_examples - 1 and reader.errors.count == 1
    assert mask.name in capfd.readouterr().err

    make_toy("coco", str(tmp_path / "coco"), images=(8, 4))
    reader = CocoReader(tmp_path / "coco", "val")
    image = sorted((tmp_path / "coco" / "val2017").iterdir())[0]
    image.unlink()
    image.mkdir()  # a folder where the image was
    batches = list(reader.dataset(64, batch_size=2))
    assert sum(len(b[0]) for b in batches) == 3 and reader.errors.count == 1
    assert image.name in capfd.readouterr().err
