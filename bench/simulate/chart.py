#!/usr/bin/env python3
"""Draws the reserved utilization of each region's pools over the day, with the
routing policy (solid) and the baseline (dashed), from `meridian simulate --json`.

    python3 bench/simulate/chart.py results.json utilization.png

Needs matplotlib (`pip install matplotlib`).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source, target):
    with open(source) as f:
        runs = json.load(f)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    regions = sorted(runs["policy"]["hours"][0]["by_region"])
    colours = dict(zip(regions, ["tab:blue", "tab:orange", "tab:green", "tab:red"]))
    for name, style in (("policy", "-"), ("baseline", "--")):
        hours = runs[name]["hours"]
        x = [h["hour"] + 0.5 for h in hours]
        for region in regions:
            top.plot(x, [100 * h["by_region"][region] for h in hours], style,
                     color=colours[region], label=f"{region} ({name})")
        bottom.plot(x, [100 * h["on_demand_share"] for h in hours], style,
                    color="black", label=f"on-demand share ({name})")
    p, b = runs["policy"], runs["baseline"]
    top.set_title("Reserved pool utilization per region, by UTC hour — policy "
                  f"{100 * p['reserved_utilization']:.1f}%, baseline "
                  f"{100 * b['reserved_utilization']:.1f}% over the day")
    top.set_ylabel("tokens served / capacity (%)")
    top.set_ylim(0, 105)
    top.grid(alpha=0.3)
    top.legend(ncol=2, fontsize=8, loc="lower left")
    bottom.set_ylabel("on-demand (%)")
    bottom.set_xlabel("hour of the trace (UTC)")
    bottom.set_ylim(0, 100)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=8, loc="upper left")
    bottom.set_xlim(0, len(p["hours"]))
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
