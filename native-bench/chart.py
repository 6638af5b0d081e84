"""Draws the comparison's PNG chart from the results JSON written by native-bench/compare.bench.ts.

    python native-bench/chart.py RESULTS.json OUT.png

Two panels per workload: CPU seconds per million events in steady state (solid; lower is better) beside the total
with startup (light), and events per second (higher is better); a system whose final tables did not equal the
source is drawn hatched and labelled "wrong".
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
    ax = row[0]
    y = range(len(rs))
    steady = [r["steadyCpuSecondsPerMillion"] or 0 for r in rs]
    total = [r["cpuSecondsPerMillion"] for r in rs]
    ax.barh([i + 0.2 for i in y], total, height=0.4, color=[colors.get(n, "#7f7f7f") for n in names], alpha=0.35, label="total, startup included")
    bars = ax.barh([i - 0.2 for i in y], steady, height=0.4, color=[colors.get(n, "#7f7f7f") for n in names], label="steady state")
    for b, r, v, t in zip(bars, rs, steady, total):
        if not r["correct"]:
            b.set_hatch("//")
        ax.text(max(v, t), b.get_y() + b.get_height(), f" {v:,.0f} / {t:,.0f}" + ("" if r["correct"] else " (wrong)"), va="center")
    ax.set_yticks(list(y), names)
    ax.set_title(f"{mix}: CPU s per million events, steady / total (lower is better)", fontsize=10)
    ax.invert_yaxis()
    ax.margins(x=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax = row[1]
    vals = [r["eventsPerSecond"] for r in rs]
    bars = ax.barh(names, vals, color=[colors.get(n, "#7f7f7f") for n in names])
    for b, r, v in zip(bars, rs, vals):
        if not r["correct"]:
            b.set_hatch("//")
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v:,.0f}" + ("" if r["correct"] else " (wrong)"), va="center")
    ax.set_title(f"{mix}: events/s, launch to last commit (higher is better)", fontsize=10)
    ax.invert_yaxis()
    ax.margins(x=0.25)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
