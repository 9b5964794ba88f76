"""python search/run.py --budget 0.4GFLOPs

Architecture search under a MACs or latency budget, then retraining,
quantization-aware training, TFLite int8 / EdgeTPU export and a report in
--out. The same command is installed as `tfeff-search`; `--help` lists the
options. The pipeline itself is `tfeff.nas.pipeline.run_search`.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfeff.nas.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
