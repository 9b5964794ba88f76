"""The floors import downwards only (issue 21, item 4).

`tfeff.spec` and the analytic cost model are pure Python: they import with
Keras, TensorFlow and JAX made unimportable, and so do `import tfeff`, the
variant registry and `tfeff-profile`'s cost table. Each check runs in a
fresh interpreter, since this one has Keras loaded already.
"""

import subprocess
import sys
import textwrap

import pytest

# Setting a module to None in sys.modules makes `import` of it raise.
_BLOCK = """
import sys
for name in {names!r}:
    sys.modules[name] = None
"""
FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")


def _run(code, blocked=FRAMEWORKS + ("numpy",)):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _BLOCK.format(names=blocked) + textwrap.dedent(code),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_spec_imports_nothing_from_models_or_keras():
    out = _run(
        """
        import tfeff.spec
        spec = tfeff.spec.validate_arch("stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16")
        print(tfeff.spec.describe_arch(spec).splitlines()[0].split()[0])
        print(sorted(m for m in sys.modules if m.startswith("tfeff.models")))
        """
    )
    assert out.split("\n")[:2] == ["part", "[]"]


def test_analytic_cost_of_a_spec_and_of_a_name_without_keras():
    out = _run(
        """
        import tfeff
        from tfeff.profile.cost import estimate_cost
        print(estimate_cost("stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16").params)
        print(tfeff.estimate_cost("efficientnet_b0").params)
        # The registry and the family tables are data; the builder is not.
        print("tfeff.models.builder" in sys.modules)
        """
    )
    # 1824 = stem 3*3*3*32 + BN 2*32, depthwise 9*32 + BN 2*32, project
    # 32*16 + BN 2*16. 5,288,548: keras.applications.EfficientNetB0's count
    # (the paper's 5.3M, ../shared/reference/ architecture configs).
    assert out.split() == ["1824", "5288548", "False"]


def test_profile_cli_costs_a_variant_without_keras():
    out = _run(
        """
        sys.argv = ["tfeff-profile", "mixnet_s"]
        from tfeff.profile.cli import main
        try:
            main()
        except SystemExit as exit:
            assert not exit.code, exit.code
        """
    )
    assert "MACs" in out


def test_keras_names_load_keras_when_first_read():
    pytest.importorskip("keras")
    code = """
        import sys
        import tfeff
        assert "keras" not in sys.modules
        model = tfeff.create_model("test_efficientnet")
        assert "keras" in sys.modules
        # A model file tfeff wrote loads with plain Keras: every module that
        # registers a serializable class was imported with the builder.
        assert "tfeff.quantize.layers" in sys.modules
        assert "tfeff.train.schedules" in sys.modules
        print(model.count_params())
    """
    _run_with_keras(code)


def _run_with_keras(code):
    """Runs `code` in a fresh interpreter with Keras importable; its
    stdout. TensorFlow's start-up lines must stay hidden (tfeff/_console.py)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "E0000" not in result.stderr and "cuInit" not in result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "module",
    [
        "tfeff.nas.cli",
        "tfeff.export.cli",
        "tfeff.train.cli",
        "tfeff.profile.cli",
    ],
)
def test_command_line_help_starts_no_tensorflow(module):
    # `--help` (argparse exits before the command's work) needs none of
    # Keras, TensorFlow, JAX or torch.
    out = _run(
        f"""
        import importlib
        cli = importlib.import_module("{module}")
        try:
            cli.main(["--help"])
        except SystemExit as exit:
            assert not exit.code, exit.code
        """,
        blocked=FRAMEWORKS,
    )
    assert "usage:" in out


def test_keras_imported_after_tfeff_knows_tfeffs_classes_and_starts_quietly():
    # `import tfeff` is lazy, yet `keras.saving.load_model` of a file tfeff
    # wrote works after it (tfeff/_lazy.py, after_keras_import), and the
    # user's own `import keras` starts TensorFlow without its start-up lines.
    code = """
        import sys
        import tfeff
        import keras
        assert "tfeff.quantize.qat" in sys.modules
        assert "tfeff.train.losses" in sys.modules
        assert keras.saving.get_registered_object("tfeff>ChannelSplit")
        import tensorflow as tf
        print(int(tf.constant(1) + 1))
    """
    assert _run_with_keras(code).split() == ["2"]
