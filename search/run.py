"""python search/run.py --budget 0.4GFLOPs

Architecture search under a MACs or latency budget, then retraining,
quantization-aware training, TFLite int8 / EdgeTPU export and a report in
--out. The same command is installed as `tfeff-search`; `--help` lists the
options. The pipeline itself is `tfeff.nas.pipeline.run_search`.
"""

import sys

from tfeff.nas.cli import main

if __name__ == "__main__":
    sys.exit(main())
