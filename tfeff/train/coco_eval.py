"""COCO box mAP through pycocotools' `COCOeval`, fed from our detections.

`coco_detection_metrics(ground_truth, detections)` returns AP, AP50, AP75
and AP for small/medium/large objects (COCO's area ranges). Detections
come from `detections_to_coco`, which turns `SSDPostprocess` outputs
(normalized corner boxes, labels 1..C) into COCO records (pixel
`[x, y, width, height]`, the data set's category ids).
"""

import contextlib
import io
import json
import os

import numpy as np

COCO_METRIC_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl")


def _load_ground_truth(ground_truth):
    from pycocotools.coco import COCO

    if isinstance(ground_truth, COCO):
        return ground_truth
    if isinstance(ground_truth, (str, os.PathLike)):
        try:
            with open(ground_truth) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(
                "`ground_truth` must be a readable COCO annotation file. "
                f"Received: ground_truth={str(ground_truth)!r} ({error})"
            ) from None
    elif isinstance(ground_truth, dict):
        data = ground_truth
    else:
        raise TypeError(
            "`ground_truth` must be a COCO object, an instances_*.json path "
            f"or its dict. Received: {type(ground_truth).__name__}"
        )
    missing = [
        k for k in ("images", "annotations", "categories") if k not in data
    ]
    if missing:
        raise ValueError(
            f"`ground_truth` lacks the COCO keys {missing}. Received keys: "
            f"{sorted(data)}"
        )
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def coco_detection_metrics(ground_truth, detections):
    """COCO box AP of `detections` against `ground_truth`.

    Args:
        ground_truth: a pycocotools `COCO`, the path of an
            `instances_*.json`, or its dict.
        detections: list of `{"image_id", "category_id", "bbox": [x, y, w,
            h] in pixels, "score"}`.

    Returns:
        dict of floats `AP, AP50, AP75, APs, APm, APl` (COCOeval's first six
        statistics; NaN where COCO reports -1, i.e. no ground truth of that
        size). With no detections every AP is 0.
    """
    from pycocotools.cocoeval import COCOeval

    coco = _load_ground_truth(ground_truth)
    if not isinstance(detections, list):
        raise TypeError(
            "`detections` must be a list of COCO result dicts. Received: "
            f"{type(detections).__name__}"
        )
    if not detections:
        return dict.fromkeys(COCO_METRIC_NAMES, 0.0)
    known = set(coco.getImgIds())
    unknown = {d["image_id"] for d in detections} - known
    if unknown:
        raise ValueError(
            f"`detections` name image ids not in the ground truth: "
            f"{sorted(unknown)[:5]}"
        )
    with contextlib.redirect_stdout(io.StringIO()):
        results = coco.loadRes(detections)
        evaluator = COCOeval(coco, results, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = [float(v) for v in evaluator.stats[:6]]
    return {
        name: (float("nan") if value < 0 else value)
        for name, value in zip(COCO_METRIC_NAMES, stats)
    }


def detections_to_coco(
    image_ids,
    detections,
    image_sizes,
    category_ids,
):
    """`SSDPostprocess` outputs of a batch → COCO result records.

    Args:
        image_ids: sequence of the batch's COCO image ids.
        detections: dict of numpy arrays from `SSDPostprocess` (`boxes`,
            `scores`, `classes`, `num_detections`).
        image_sizes: sequence of `(height, width)` of the original images.
        category_ids: sequence mapping label `i` (1-based) to
            `category_ids[i - 1]`.

    Returns:
        list of dicts.
    """
    records = []
    boxes = np.asarray(detections["boxes"])
    scores = np.asarray(detections["scores"])
    classes = np.asarray(detections["classes"])
    counts = np.asarray(detections["num_detections"]).reshape(-1)
    for index, image_id in enumerate(image_ids):
        height, width = image_sizes[index]
        for k in range(int(counts[index])):
            x1, y1, x2, y2 = boxes[index, k] * (width, height, width, height)
            label = int(classes[index, k])
            if not 1 <= label <= len(category_ids):
                raise ValueError(
                    f"Detection label {label} is outside 1..{len(category_ids)} "
                    "(`category_ids` has one id per object class)."
                )
            records.append(
                {
                    "image_id": int(image_id),
                    "category_id": int(category_ids[label - 1]),
                    "bbox": [
                        float(x1),
                        float(y1),
                        float(x2 - x1),
                        float(y2 - y1),
                    ],
                    "score": float(scores[index, k]),
                }
            )
    return records
