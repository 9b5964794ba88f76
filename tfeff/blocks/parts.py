"""Channel parts: a tensor kept as consecutive channel groups.

Grouped 1x1 convs and MixConv kernel groups work on channel groups. Between
two such layers the tensor is kept as a list of parts (consecutive channel
groups) instead of being concatenated and split again: a concat -> split
pair copies the whole activation twice in TFLite, and MixNet has dozens.
Per-channel layers (batch norm, activations, depthwise convs) run on each
part. A single tensor is the one-part case and emits exactly the layers it
always did.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.ops import ChannelSplit


def as_parts(x):
    """`x` as a list of channel parts (a tensor is one part)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _cut_points(sizes):
    total, cuts = 0, set()
    for size in sizes[:-1]:
        total += size
        cuts.add(total)
    return cuts


def join_parts(parts, name):
    """One tensor from channel parts (a concat only where there are several)."""
    parts = as_parts(parts)
    if len(parts) == 1:
        return parts[0]
    return keras.layers.Concatenate(name=name)(parts)


def repartition(parts, sizes, name):
    """Channel parts re-cut into consecutive groups of `sizes` channels.

    Cuts already there are kept: finer groups split each part (`{name}_split`,
    or `{name}_split<k>` per part), coarser ones concatenate neighbouring parts
    (`{name}_join<k>`); otherwise the parts are joined (`{name}_join`) and
    split again.
    """
    parts = as_parts(parts)
    sizes = [int(s) for s in sizes]
    current = [int(p.shape[-1]) for p in parts]
    if current == sizes:
        return parts
    if sum(current) != sum(sizes):
        raise ValueError(
            f"Cannot cut {sum(current)} channels into {sizes} ({name})."
        )
    have, want = _cut_points(current), _cut_points(sizes)
    if have <= want:  # Finer: split the parts that contain new cuts.
        out, index = [], 0
        for k, part in enumerate(parts):
            inner, total = [], 0
            while total < part.shape[-1]:
                inner.append(sizes[index])
                total += sizes[index]
                index += 1
            if len(inner) == 1:
                out.append(part)
                continue
            suffix = "" if len(parts) == 1 else str(k + 1)
            out += ChannelSplit(inner, name=f"{name}_split{suffix}")(part)
        return out
    if want <= have:  # Coarser: join neighbouring parts.
        out, index = [], 0
        for k, size in enumerate(sizes):
            group, total = [], 0
            while total < size:
                group.append(parts[index])
                total += current[index]
                index += 1
            suffix = "" if len(sizes) == 1 else str(k + 1)
            out.append(join_parts(group, f"{name}_join{suffix}"))
        return out
    whole = join_parts(parts, f"{name}_join")
    return list(ChannelSplit(sizes, name=f"{name}_split")(whole))


def _refinement(*partitions):
    """Sizes of the common refinement of partitions of the same width."""
    cuts = sorted(set().union(*(_cut_points(p) for p in partitions)))
    edges = [0, *cuts, sum(partitions[0])]
    return [b - a for a, b in zip(edges, edges[1:])]


def group_parts(parts, sizes, name):
    """Channel parts as one list per consecutive group of `sizes` channels.

    A part is split (`{name}_split<k>`) only where a group boundary falls
    inside it; a group may hold several parts. Per-channel layers run on
    each of them; a grouped conv joins them (`{name}_join<k>`).
    """
    parts = as_parts(parts)
    current = [int(p.shape[-1]) for p in parts]
    parts = repartition(parts, _refinement(current, sizes), name)
    groups, index = [], 0
    for size in sizes:
        group, total = [], 0
        while total < size:
            group.append(parts[index])
            total += int(parts[index].shape[-1])
            index += 1
        groups.append(group)
    return groups


def part_name(name, group, part, parts_in_group):
    """`{name}_g<group>`, or `{name}_g<group>p<part>` where it has several."""
    if parts_in_group == 1:
        return f"{name}_g{group + 1}"
    return f"{name}_g{group + 1}p{part + 1}"
