"""Every variant's graph as a pinned fingerprint: its layer names in order,
its weights in order (path and shape), its parameters and its MACs.

Issue 21 moves each block kind's code into one home; "same graphs" is its
contract. `graph_manifest.json` beside this file was written by

    python -m tests.contract.graph_manifest --write

at the commit it names, before that refactor; `test_every_variant.py`
compares each built variant with it. Regenerate only for a change that
means to alter a graph, and say so in the commit.
"""

import hashlib
import json
import math
import os
import subprocess
import sys

MANIFEST = os.path.join(os.path.dirname(__file__), "graph_manifest.json")


def fingerprint(model, macs=None):
    """The graph facts a refactor must keep, as a JSON-able dict (`macs`:
    the model's `count_macs`, when the caller has it already)."""
    import keras

    from tfeff.profile import count_macs

    names = [
        layer.name
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    weights = [f"{w.path} {tuple(w.shape)}" for w in model.weights]

    def digest(lines):
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    return {
        "layers": len(names),
        "layer_names_sha256": digest(names),
        "weights": len(weights),
        "weights_sha256": digest(weights),
        "params": int(sum(math.prod(w.shape) for w in model.weights)),
        "macs": int(count_macs(model) if macs is None else macs),
    }


def load():
    with open(MANIFEST) as file:
        return json.load(file)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["--write"]:
        print(__doc__)
        return 2
    import tfeff

    names = tfeff.list_variants("test_*") + tfeff.applications.list_models()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(__file__),
    ).stdout.strip()
    variants = {}
    for index, name in enumerate(names, start=1):
        variants[name] = fingerprint(tfeff.create_model(name))
        print(f"{index}/{len(names)} {name}", flush=True)
    with open(MANIFEST, "w") as file:
        json.dump({"commit": commit, "variants": variants}, file, indent=1)
        file.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
