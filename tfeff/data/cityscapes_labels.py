"""The Cityscapes label table, generated from cityscapesScripts.

Generated (not retyped) from `cityscapesscripts.helpers.labels.labels` of
the cityscapesScripts 2.3.0 package (mcordts/cityscapesScripts,
https://github.com/mcordts/cityscapesScripts, see its LICENSE): each row is
`repr` of the package's Label. The package itself is not a dependency: it
pulls in the obsolete `typing` backport. `tests/data/test_cityscapes.py`
compares this table with the package where it is installed.

Columns: name, id (labelId in `*_gtFine_labelIds.png`), trainId (255 =
ignored in training and evaluation), category, categoryId, hasInstances,
ignoreInEval, color (RGB).
"""

import collections

import numpy as np

Label = collections.namedtuple(
    "Label",
    [
        "name",
        "id",
        "trainId",
        "category",
        "categoryId",
        "hasInstances",
        "ignoreInEval",
        "color",
    ],
)

# fmt: off
LABELS = (
    Label('unlabeled', 0, 255, 'void', 0, False, True, (0, 0, 0)),
    Label('ego vehicle', 1, 255, 'void', 0, False, True, (0, 0, 0)),
    Label('rectification border', 2, 255, 'void', 0, False, True, (0, 0, 0)),
    Label('out of roi', 3, 255, 'void', 0, False, True, (0, 0, 0)),
    Label('static', 4, 255, 'void', 0, False, True, (0, 0, 0)),
    Label('dynamic', 5, 255, 'void', 0, False, True, (111, 74, 0)),
    Label('ground', 6, 255, 'void', 0, False, True, (81, 0, 81)),
    Label('road', 7, 0, 'flat', 1, False, False, (128, 64, 128)),
    Label('sidewalk', 8, 1, 'flat', 1, False, False, (244, 35, 232)),
    Label('parking', 9, 255, 'flat', 1, False, True, (250, 170, 160)),
    Label('rail track', 10, 255, 'flat', 1, False, True, (230, 150, 140)),
    Label('building', 11, 2, 'construction', 2, False, False, (70, 70, 70)),
    Label('wall', 12, 3, 'construction', 2, False, False, (102, 102, 156)),
    Label('fence', 13, 4, 'construction', 2, False, False, (190, 153, 153)),
    Label('guard rail', 14, 255, 'construction', 2, False, True, (180, 165, 180)),
    Label('bridge', 15, 255, 'construction', 2, False, True, (150, 100, 100)),
    Label('tunnel', 16, 255, 'construction', 2, False, True, (150, 120, 90)),
    Label('pole', 17, 5, 'object', 3, False, False, (153, 153, 153)),
    Label('polegroup', 18, 255, 'object', 3, False, True, (153, 153, 153)),
    Label('traffic light', 19, 6, 'object', 3, False, False, (250, 170, 30)),
    Label('traffic sign', 20, 7, 'object', 3, False, False, (220, 220, 0)),
    Label('vegetation', 21, 8, 'nature', 4, False, False, (107, 142, 35)),
    Label('terrain', 22, 9, 'nature', 4, False, False, (152, 251, 152)),
    Label('sky', 23, 10, 'sky', 5, False, False, (70, 130, 180)),
    Label('person', 24, 11, 'human', 6, True, False, (220, 20, 60)),
    Label('rider', 25, 12, 'human', 6, True, False, (255, 0, 0)),
    Label('car', 26, 13, 'vehicle', 7, True, False, (0, 0, 142)),
    Label('truck', 27, 14, 'vehicle', 7, True, False, (0, 0, 70)),
    Label('bus', 28, 15, 'vehicle', 7, True, False, (0, 60, 100)),
    Label('caravan', 29, 255, 'vehicle', 7, True, True, (0, 0, 90)),
    Label('trailer', 30, 255, 'vehicle', 7, True, True, (0, 0, 110)),
    Label('train', 31, 16, 'vehicle', 7, True, False, (0, 80, 100)),
    Label('motorcycle', 32, 17, 'vehicle', 7, True, False, (0, 0, 230)),
    Label('bicycle', 33, 18, 'vehicle', 7, True, False, (119, 11, 32)),
    Label('license plate', -1, -1, 'vehicle', 7, False, True, (0, 0, 142)),
)
# fmt: on

IGNORE_LABEL = 255
NUM_TRAIN_CLASSES = 19
# trainId -> name and color of the first label with that trainId (0..18).
TRAIN_CLASS_NAMES = tuple(
    next(lab.name for lab in LABELS if lab.trainId == t)
    for t in range(NUM_TRAIN_CLASSES)
)
TRAIN_CLASS_COLORS = tuple(
    next(lab.color for lab in LABELS if lab.trainId == t)
    for t in range(NUM_TRAIN_CLASSES)
)


def label_id_to_train_id_table():
    """uint8 lookup table of 256 entries: labelId -> trainId (255 for ids
    outside the table or ignored in evaluation)."""
    table = np.full(256, IGNORE_LABEL, dtype=np.uint8)
    for lab in LABELS:
        if 0 <= lab.id < 256 and 0 <= lab.trainId < 255:
            table[lab.id] = lab.trainId
    return table
