"""Draws the comparison's PNG chart from the results JSON written by native-bench/compare.bench.ts.

    python native-bench/chart.py RESULTS.json OUT.png

Two panels per workload: CPU seconds per million events (lower is better) and events per second (higher is
better); a system whose final table did not equal the source is drawn hatched and labelled "wrong".
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display on the benchmark machine
import matplotlib.pyplot as plt  # noqa: E402

results = json.load(open(sys.argv[1]))
mixes = [m for m in ("cdc", "insert") if any(r["mix"] == m for r in results)]
fig, axes = plt.subplots(len(mixes), 2, figsize=(11, 3.6 * len(mixes)), squeeze=False)
colors = {"floe": "#1f77b4", "flink": "#d62728", "kafka-connect": "#2ca02c", "spark": "#9467bd"}
for row, mix in zip(axes, mixes):
    rs = [r for r in results if r["mix"] == mix and r["ok"]]
    names = [r["system"] for r in rs]
    for ax, key, title in (
        (row[0], "cpuSecondsPerMillion", "CPU s per million events (lower is better)"),
        (row[1], "eventsPerSecond", "events/s end to end (higher is better)"),
    ):
        vals = [r[key] for r in rs]
        bars = ax.barh(names, vals, color=[colors.get(n, "#7f7f7f") for n in names])
        for b, r, v in zip(bars, rs, vals):
            if not r["correct"]:
                b.set_hatch("//")
            ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v:,.0f}" + ("" if r["correct"] else " (wrong)"), va="center")
        ax.set_title(f"{mix}: {title}", fontsize=10)
        ax.invert_yaxis()
        ax.margins(x=0.25)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
