"""The search report's plot: accuracy against MACs, baselines marked."""

from tfeff.files import save_figure_atomically


def pareto_front(points):
    """Indices of points no other point beats on both fewer MACs and higher
    accuracy, sorted by MACs.

    >>> pareto_front([(1, 0.5), (2, 0.4), (3, 0.9), (2, 0.6)])
    [0, 3, 2]
    """
    order = sorted(
        range(len(points)), key=lambda i: (points[i][0], -points[i][1])
    )
    front, best = [], float("-inf")
    for index in order:
        if points[index][1] > best:
            front.append(index)
            best = points[index][1]
    return front


def plot_pareto(
    records,
    path,
    *,
    baselines=None,
    winner_trial=None,
    widened_winner=None,
    budget_macs=None,
    title="",
    x="macs",
    budget_ms=None,
):
    """Writes a PNG of proxy accuracy against MACs (or latency) for the
    trials.

    Args:
        records: `trials.jsonl` rows (`macs`, `val_accuracy`, `trial_id`,
            and `latency_ms` in a latency-budgeted search).
        path: str. Output PNG (written atomically).
        baselines: {label: trial_id} of baseline trials to mark.
        winner_trial: trial id of the winner, starred.
        widened_winner: (macs, retrain accuracy, multiplier) of the winner
            widened to the budget, drawn as a hollow star joined to it
            (`x="macs"` only).
        budget_macs: int. Drawn as a vertical line (`x="macs"`).
        title: str.
        x: `"macs"` or `"latency_ms"` (the latency table's prediction for
            each trial): the horizontal axis.
        budget_ms: float. The latency budget, a vertical line
            (`x="latency_ms"`).
    """
    if x not in ("macs", "latency_ms"):
        raise ValueError(
            f"`x` must be 'macs' or 'latency_ms'. Received: x={x!r}"
        )
    scale = 1e-6 if x == "macs" else 1.0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    baselines = baselines or {}
    done = [
        r for r in records if r.get("val_accuracy") is not None and r.get(x)
    ]
    baseline_ids = set(baselines.values())
    fig, ax = plt.subplots(figsize=(10, 5), dpi=120)
    searched = [r for r in done if r["trial_id"] not in baseline_ids]
    ax.scatter(
        [r[x] * scale for r in searched],
        [r["val_accuracy"] for r in searched],
        s=36,
        color="#4878a8",
        alpha=0.8,
        label="searched candidates",
        zorder=3,
    )
    points = [(r[x], r["val_accuracy"]) for r in done]
    front = [done[i] for i in pareto_front(points)]
    if len(front) > 1:
        ax.step(
            [r[x] * scale for r in front],
            [r["val_accuracy"] for r in front],
            where="post",
            color="#4878a8",
            alpha=0.5,
            linewidth=1,
            label="Pareto front",
        )
    markers = ["s", "D", "^", "v", "P"]
    for index, (label, trial_id) in enumerate(baselines.items()):
        row = next((r for r in done if r["trial_id"] == trial_id), None)
        if row is None:
            continue
        ax.scatter(
            [row[x] * scale],
            [row["val_accuracy"]],
            marker=markers[index % len(markers)],
            s=80,
            edgecolor="black",
            color="#e0a030",
            label=f"baseline: {label}",
            zorder=4,
        )
    winner = next((r for r in done if r["trial_id"] == winner_trial), None)
    if winner is not None:
        ax.scatter(
            [winner[x] * scale],
            [winner["val_accuracy"]],
            marker="*",
            s=320,
            color="#c03030",
            edgecolor="black",
            label="winner (proxy accuracy)",
            zorder=5,
        )
    if widened_winner is not None and x == "macs":
        macs, accuracy, multiplier = widened_winner
        if winner is not None:
            ax.plot(
                [winner["macs"] / 1e6, macs / 1e6],
                [winner["val_accuracy"], accuracy],
                color="#c03030",
                linewidth=1,
                linestyle=":",
                zorder=4,
            )
        ax.scatter(
            [macs / 1e6],
            [accuracy],
            marker="*",
            s=320,
            facecolor="white",
            edgecolor="#c03030",
            linewidth=1.5,
            label=f"winner widened x{multiplier:.2f} (retrain accuracy)",
            zorder=5,
        )
    if budget_macs and x == "macs":
        ax.axvline(
            budget_macs / 1e6,
            color="gray",
            linestyle="--",
            linewidth=1,
            label=f"budget {budget_macs / 1e6:g} M",
        )
    if budget_ms and x == "latency_ms":
        ax.axvline(
            budget_ms,
            color="gray",
            linestyle="--",
            linewidth=1,
            label=f"latency budget {budget_ms:g} ms",
        )
    ax.set_xlabel(
        "MMACs (multiply-adds) at the deployment resolution"
        if x == "macs"
        else "latency (ms, the table's prediction on this host)"
    )
    ax.set_ylabel("validation accuracy (proxy task)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    # Outside the axes: a legend inside hides points in some corner.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save_figure_atomically(fig, path)
