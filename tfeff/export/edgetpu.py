"""EdgeTPU export: a fully int8 static-shape model and a compatibility report.

The report applies the Coral compiler's published rules op by op
(../shared/reference/deployment.md §2.1-2.3): the op type must be in the
supported list; every tensor int8 (uint8 accepted); shapes static; at most
3 dimensions larger than 1 (and only the innermost 3). The compiler maps
one subgraph: after the first op that cannot run on the EdgeTPU, the rest
falls back to the CPU ("More than one subgraph is not supported"). When
`edgetpu_compiler` is on PATH it is run as well and its op table parsed
into the same report.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict
from dataclasses import dataclass

import numpy as np

from tfeff.export.tflite import to_tflite
from tfeff.files import atomic_write_bytes

# Coral's supported-op table plus later additions (compiler 2.0-16);
# deployment.md §2.2. PRELU: Coral staff suggest it maps; verify on device.
# QUANTIZE: since compiler 2.0 / runtime v13, so an int8 -> int8 QUANTIZE
# (the requantization the converter puts in front of a concatenation whose
# inputs have other ranges) maps too.
EDGETPU_OPS = {
    "ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "CONV_2D", "DEPTHWISE_CONV_2D",
    "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION", "FULLY_CONNECTED",
    "MEAN", "PAD", "RESHAPE", "SLICE", "SPLIT", "SPACE_TO_DEPTH",
    "L2_NORMALIZATION", "SQUEEZE", "STRIDED_SLICE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "SOFTMAX", "LOGISTIC", "RELU", "RELU6",
    "RELU_N1_TO_1", "TANH", "EXPAND_DIMS", "PACK", "QUANTIZE", "SUM",
    "TRANSPOSE_CONV", "TRANSPOSE", "PRELU", "DEQUANTIZE",
}  # fmt: skip
# Known not to map (deployment.md §2.2 "Not mapped").
KNOWN_UNSUPPORTED = {
    "HARD_SWISH": "HardSwish is not supported; use ReLU/ReLU6 (make_edge_friendly)",
    "LEAKY_RELU": "LeakyReLU is not supported; use ReLU/ReLU6",
    "GATHER_ND": "GatherND is not supported",
}
_INT8 = (np.int8, np.uint8)


@dataclass(frozen=True)
class OpReport:
    index: int
    op: str
    mapped: bool
    reason: str


@dataclass(frozen=True)
class EdgeTPUReport:
    """Per-op mapping of a TFLite model onto the EdgeTPU."""

    model_path: str
    ops: tuple
    compiler: str | None = None  # "edgetpu_compiler" log summary, if run

    @property
    def mapped(self):
        return sum(op.mapped for op in self.ops)

    @property
    def all_mapped(self):
        return all(op.mapped for op in self.ops)

    def table(self):
        lines = [
            f"EdgeTPU report for {os.path.basename(self.model_path)}: "
            f"{self.mapped}/{len(self.ops)} ops mapped",
            f"{'#':>4}  {'op':<22} {'where':<8} reason",
        ]
        for op in self.ops:
            where = "EdgeTPU" if op.mapped else "CPU"
            lines.append(f"{op.index:>4}  {op.op:<22} {where:<8} {op.reason}")
        if self.compiler:
            lines.append("")
            lines.append(self.compiler)
        return "\n".join(lines)

    def to_json(self):
        return {
            "model_path": self.model_path,
            "mapped": self.mapped,
            "total": len(self.ops),
            "all_mapped": self.all_mapped,
            "ops": [asdict(op) for op in self.ops],
            "compiler": self.compiler,
        }


def _tensor_problem(tensor, activation):
    if tensor["dtype"] not in _INT8 and tensor["dtype"] != np.int32:
        return f"tensor {tensor['name']!r} is {np.dtype(tensor['dtype']).name}, not int8"
    if not activation:  # Weights and biases: only their type matters.
        return None
    signature = tensor.get("shape_signature")
    if signature is not None and any(int(d) < 0 for d in signature):
        return (
            f"tensor {tensor['name']!r} has a dynamic shape {list(signature)}"
        )
    shape = [int(d) for d in tensor["shape"]]
    large = [i for i, d in enumerate(shape) if d > 1]
    if large and (len(large) > 3 or large[0] < len(shape) - 3):
        return (
            f"tensor {tensor['name']!r} of shape {shape}: more than the 3 "
            "innermost dimensions exceed 1"
        )
    return None


def analyze(tflite_path):
    """Applies the EdgeTPU rules to every op of a `.tflite` file."""
    from ai_edge_litert.interpreter import Interpreter

    from tfeff._console import native_output_captured

    with native_output_captured():
        interpreter = Interpreter(model_path=os.fspath(tflite_path))
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    details = interpreter._get_ops_details()
    inputs = {d["index"] for d in interpreter.get_input_details()}
    outputs = {d["index"] for d in interpreter.get_output_details()}
    activations = set(inputs)
    for op in details:
        activations.update(op["outputs"])
    reports = []
    fallen_back = False
    for position, op in enumerate(details):
        name = op["op_name"]
        reason = None
        if name in KNOWN_UNSUPPORTED:
            reason = KNOWN_UNSUPPORTED[name]
        elif name not in EDGETPU_OPS:
            reason = f"op {name} is not in the EdgeTPU op list"
        else:
            for index in list(op["inputs"]) + list(op["outputs"]):
                if index < 0:
                    continue
                tensor = tensors[index]
                # The float model input/output around QUANTIZE/DEQUANTIZE
                # stays on the CPU edges, which the compiler allows.
                if name in ("QUANTIZE", "DEQUANTIZE") and (
                    index in inputs or index in outputs
                ):
                    continue
                reason = _tensor_problem(tensor, index in activations)
                if reason:
                    break
        if name == "DEQUANTIZE" and reason is None:
            touches_io = any(o in outputs for o in op["outputs"])
            if not touches_io:
                reason = "float tensor inside the graph (DEQUANTIZE)"
        if reason is None and fallen_back:
            reason = "More than one subgraph is not supported (after a CPU op)"
        if reason is not None and name not in ("QUANTIZE", "DEQUANTIZE"):
            fallen_back = True
        reports.append(
            OpReport(
                position, name, reason is None, reason or "Mapped to Edge TPU"
            )
        )
    return EdgeTPUReport(os.fspath(tflite_path), tuple(reports))


_COMPILER_LINE = re.compile(r"^(\w+)\s+(\d+)\s+(.+)$")


def parse_compiler_log(text):
    """[(op, count, status)] from `edgetpu_compiler -s` output."""
    rows = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("Operator") and "Count" in line:
            in_table = True
            continue
        if in_table:
            match = _COMPILER_LINE.match(line.strip())
            if match and not line.startswith("-"):
                rows.append((match[1], int(match[2]), match[3].strip()))
    return rows


def run_compiler(tflite_path, out_dir):
    """Runs `edgetpu_compiler -s`; returns (log text, rows) or None."""
    compiler = shutil.which("edgetpu_compiler")
    if compiler is None:
        return None
    result = subprocess.run(
        [compiler, "-s", "-o", out_dir, os.fspath(tflite_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    text = result.stdout + result.stderr
    return text, parse_compiler_log(text)


def to_edgetpu(model_or_tflite, out_dir, representative_data=None):
    """Writes the int8 model and its EdgeTPU compatibility report.

    Args:
        model_or_tflite: a QAT model (`tfeff.quantize.quantize_aware`), a
            float model with `representative_data`, or the path of a fully
            int8 `.tflite` file.
        out_dir: str. Receives `model_int8.tflite` (int8 IO, batch 1),
            `edgetpu_report.json` and `.txt`, and, when `edgetpu_compiler`
            is on PATH, its `model_int8_edgetpu.tflite` and log.
        representative_data: calibration batches for a float model.

    Returns:
        EdgeTPUReport.
    """
    os.makedirs(out_dir, exist_ok=True)
    if isinstance(model_or_tflite, (str, os.PathLike)):
        path = os.fspath(model_or_tflite)
        if not os.path.isfile(path):
            raise ValueError(
                f"`model_or_tflite` is not a file. Received: {model_or_tflite!r}"
            )
    else:
        path = to_tflite(
            model_or_tflite,
            os.path.join(out_dir, "model_int8.tflite"),
            mode="int8",
            representative_data=representative_data,
            io_dtype="int8",
        )
    report = analyze(path)
    compiled = run_compiler(path, out_dir)
    if compiled is not None:
        text, rows = compiled
        atomic_write_bytes(
            os.path.join(out_dir, "edgetpu_compiler.log"), text.encode()
        )
        summary = "\n".join(
            f"compiler: {op} x{count}: {status}" for op, count, status in rows
        )
        report = EdgeTPUReport(
            report.model_path, report.ops, summary or text[-2000:]
        )
    atomic_write_bytes(
        os.path.join(out_dir, "edgetpu_report.json"),
        json.dumps(report.to_json(), indent=2).encode(),
    )
    atomic_write_bytes(
        os.path.join(out_dir, "edgetpu_report.txt"), report.table().encode()
    )
    return report
