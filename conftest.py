"""Test configuration: opt-in marks and the doctest namespace."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

MARKS = ("large", "slow", "edgetpu", "gpu", "notebooks")


def pytest_addoption(parser):
    for mark in MARKS:
        parser.addoption(
            f"--run-{mark}",
            action="store_true",
            help=f"run tests marked {mark}",
        )


def pytest_collection_modifyitems(config, items):
    for mark in MARKS:
        if config.getoption(f"--run-{mark}"):
            continue
        skip = pytest.mark.skip(reason=f"needs --run-{mark}")
        for item in items:
            if mark in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace, tmp_path):
    import tfeff

    doctest_namespace.update(tfeff=tfeff, np=np, tmp_path=tmp_path)
