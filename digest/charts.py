"""Pictures of the figures: one edition's sends, deliveries, opens and clicks as a chart file.

matplotlib is imported here, inside the function, and nowhere else: the command line starts without it
(tests/cli/test_fast_start.py) and only ``digest stats --chart FILE`` pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from digest.errors import ConfigError

SERIES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed")
COLOURS = ("#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#e45756", "#b279a2")
FORMATS = (".png", ".svg")


def stats_chart(rows: Sequence[dict[str, Any]], path: Path, *, title: str = "Editions") -> Path:
    """A grouped bar chart of each edition's figures (people, per edition) written to ``path`` (.png or .svg)."""
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"--chart {path}: the file must end in .png or .svg; pick one of those names")
    if not rows:
        raise ConfigError("no editions to chart yet: send one first ('digest run')")
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none opened
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    shown = list(rows)[-12:]  # the latest dozen keep the bars readable
    labels = [f"#{r['edition']} {r['list']}\n{r['date']}" for r in shown]
    width = 0.8 / len(SERIES)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(shown) + 2), 3.6), dpi=120)
    try:
        for n, (name, colour) in enumerate(zip(SERIES, COLOURS, strict=True)):
            xs = [i + (n - (len(SERIES) - 1) / 2) * width for i in range(len(shown))]
            ax.bar(xs, [int(r.get(name) or 0) for r in shown], width, label=name, color=colour)
        ax.set_xticks(range(len(shown)), labels, fontsize=8)
        ax.set_ylabel("people")
        ax.set_title(title)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # people come whole
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(ncols=len(SERIES), fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22))
        fig.tight_layout()
        try:
            fig.savefig(path, format=path.suffix.lower()[1:])
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}; pick a folder you can write to") from None
    finally:
        plt.close(fig)
    return path
