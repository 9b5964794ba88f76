"""The proxy data sets by name; pure Python, so a command line checks
`--dataset` before TensorFlow starts."""

import os

DATASETS = ("digits", "cifar10", "folder:PATH")


def check_dataset_name(name):
    """Raises `ValueError` for anything but `digits`, `cifar10`, `folder:PATH`."""
    if not isinstance(name, str):
        raise TypeError(f"`dataset` must be a str. Received: dataset={name!r}")
    if name in ("digits", "cifar10"):
        return
    if name.startswith("folder:") and len(name) > len("folder:"):
        path = name[len("folder:") :]
        if not os.path.isdir(path):
            raise ValueError(
                f"`dataset` names a folder that does not exist. "
                f"Received: dataset={name!r}"
            )
        return
    raise ValueError(
        f"`dataset` must be one of {', '.join(DATASETS)}. "
        f"Received: dataset={name!r}"
    )
