"""Proxy-task data sets: the embedded digits and class-per-folder trees."""

import numpy as np
import pytest
from PIL import Image

from tfeff.data import load_dataset
from tfeff.data import load_digits
from tfeff.data import load_image_folder


def test_digits_are_embedded_upsampled_rgb_and_stratified():
    pytest.importorskip("sklearn")
    data = load_digits(resolution=32, validation_fraction=0.2, seed=0)
    # scikit-learn's bundled set: 1,797 images of 10 classes.
    assert len(data.x_train) + len(data.x_val) == 1797
    assert data.x_train.shape[1:] == (32, 32, 3)
    assert data.x_train.dtype == np.uint8
    assert data.x_train.max() > 200  # 16 grey levels mapped to [0, 255]
    assert data.num_classes == 10
    # Every class in the validation split in its share (about 36 of ~180).
    counts = np.bincount(data.y_val, minlength=10)
    assert counts.min() >= 30 and counts.max() <= 40
    # The split is a function of the seed.
    again = load_digits(resolution=32, seed=0)
    np.testing.assert_array_equal(again.y_val, data.y_val)
    assert not np.array_equal(
        load_digits(resolution=32, seed=1).y_train, data.y_train
    )


def write_tree(root, classes, per_class, size=(20, 14)):
    rng = np.random.default_rng(0)
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, size + (3,), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")


def test_image_folder_reads_one_folder_per_class(tmp_path):
    write_tree(tmp_path, ["cat", "dog", "emu"], per_class=5)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = load_dataset(f"folder:{tmp_path}", resolution=24, seed=0)
    assert data.class_names == ("cat", "dog", "emu")
    assert data.x_train.shape[1:] == (24, 24, 3)
    assert len(data.x_train) + len(data.x_val) == 15
    assert sorted(set(data.y_val)) == [0, 1, 2]


@pytest.mark.parametrize(
    "classes, per_class, message",
    [(["only"], 3, "at least 2 class"), (["a", "b"], 0, "holds no images")],
)
def test_image_folder_errors(tmp_path, classes, per_class, message):
    write_tree(tmp_path, classes, per_class)
    with pytest.raises(ValueError, match=message):
        load_image_folder(str(tmp_path))


def test_unknown_names_and_bad_arguments():
    with pytest.raises(ValueError, match="imagenet"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="does not exist"):
        load_image_folder("/no/such/folder")
    with pytest.raises(TypeError, match="resolution"):
        load_digits(resolution="32")
    with pytest.raises(ValueError, match="validation_fraction"):
        load_digits(validation_fraction=1.5)
