"""Layer names: every layer a block emits is `{prefix}_{part}`.

The parts are an API: weight porting, QAT selection and pyramid taps rely on
them, and `tests/contract` checks every layer of every variant against
`LAYER_NAME_PATTERN`.
"""

import re

# Every layer a block emits is named f"{prefix}_{part}". The parts are an API:
# weight porting, QAT selection and pyramid taps rely on them.
LAYER_PARTS = (
    "conv",
    "bn",
    "act",
    "pad",
    "rescaling",
    "normalization",
    "pool",
    "dropout",
    "expand_conv",
    "expand_bn",
    "expand_act",
    "dw_conv",
    "dw_bn",
    "dw_act",
    "dw_pad",
    "se_squeeze",
    "se_reduce",
    "se_expand",
    "se_gate",
    "project_conv",
    "project_bn",
    "primary_conv",
    "primary_bn",
    "primary_act",
    "cheap_conv",
    "cheap_bn",
    "cheap_act",
    "concat",
    "slice",
    "shortcut_dw_conv",
    "shortcut_dw_bn",
    "shortcut_conv",
    "shortcut_bn",
    "reduce_conv",
    "reduce_bn",
    "reduce_act",
    "concat_bn",
    "concat_act",
    "merge_conv",
    "merge_bn",
    "pool_concat",
    "avg_pool",
    "reinf_pool",
    "reinf_conv",
    "reinf_bn",
    "reinf_act",
    "reinf_project_conv",
    "reinf_project_bn",
    "reinf_add",
    "drop_path",
    "add",
    "out_act",
    # ShuffleNetV2 and IGCV3.
    "split",
    "shuffle",
    "expand_shuffle",
    "pw1_conv",
    "pw1_bn",
    "pw1_act",
    "pw2_conv",
    "pw2_bn",
    "pw2_act",
    "proj_dw_conv",
    "proj_dw_bn",
    "proj_conv",
    "proj_bn",
    "proj_act",
    # ESPNet.
    "reduce_pad",
    # DiCENet.
    "channel_conv",
    "channel_bn",
    "channel_act",
    "channel_fuse",
    "height_permute",
    "height_conv",
    "height_restore",
    "height_bn",
    "height_act",
    "height_fuse",
    "width_permute",
    "width_conv",
    "width_restore",
    "width_bn",
    "width_act",
    "width_fuse",
    "fuse_add",
    "fuse_bn",
    "fuse_act",
    "gate_pool",
    "gate_reduce",
    "gate_expand",
    "gate",
    "left_dw_conv",
    "left_dw_bn",
    "left_dw_act",
    "left_conv",
    "left_bn",
    "left_act",
    "right_conv",
    "right_bn",
    "right_act",
    # Dense layers after pooling (`fc` tokens).
    "dense",
)
# Prefixes: stem, head, head2.., stage<i>_block<j>, optionally followed by a
# sub-module (ghost1_, ghost2_, or an EESP branch<k>_); parts may end
# in _g<k> (group k of a split conv), _split or _concat.
LAYER_NAME_PATTERN = re.compile(
    r"^predictions$|"
    r"^(stem|head\d*|top\d*|stage\d+_block\d+)"
    r"(_ghost[12]|_down|_esp\d+|_dice)?(_branch\d+)?"
    r"_(" + "|".join(sorted(LAYER_PARTS, key=len, reverse=True)) + r")"
    r"(\d+)?(_g\d+(p\d+)?|_split\d*|_concat|_join\d*)?(_pad|_sum|_subsample|_t\d+_\d+(_pad|_crop)?)?$"
)
