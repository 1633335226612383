#!/usr/bin/env python3
"""Draws a soak run's figures as one SVG, with the standard library only.

    tools/soak/plot_svg.py OUT_DIR/soak.csv docs/img/soak.svg [--title TEXT]

Three panels against the run's minutes: gridd's RSS (the highest sample of
each interval, and the level at the end of the warm-up read from soak.json
beside the CSV when it is there), the latency percentiles of submissions and
of case work (p50 and p99, log scale), and the calls acknowledged per second.
"""
import csv
import json
import math
import os
import sys

W, PANEL_H, LEFT, RIGHT, TOP, GAP = 900, 210, 70, 170, 40, 55


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def panel(out, y0, title, xs, series, x_max, log=False, ylabel="", hlines=()):
    h = PANEL_H
    x_of = lambda x: LEFT + (W - LEFT - RIGHT) * x / x_max
    vals = [v for _, _, ys in series for v in ys if v is not None and (v > 0 or not log)]
    vals += [v for _, v, _ in hlines]
    if not vals:
        vals = [1]
    if log:
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals)))
        f = lambda v: math.log10(max(v, lo))
        flo, fhi = math.log10(lo), math.log10(hi)
        ticks = [10 ** e for e in range(int(flo), int(fhi) + 1)]
    else:
        lo, hi = 0.0, max(vals) * 1.1
        if hlines:
            lo = min(min(vals) * 0.9, min(v for _, v, _ in hlines) * 0.9)
        f = lambda v: v
        flo, fhi = lo, hi
        ticks = nice_ticks(lo, hi)
        flo, fhi = ticks[0], max(ticks[-1], hi)
    y_of = lambda v: y0 + h - h * (f(v) - flo) / ((fhi - flo) or 1)
    out.append(f'<text x="{LEFT}" y="{y0 - 8}" font-size="14" font-weight="bold">{esc(title)}</text>')
    out.append(f'<rect x="{LEFT}" y="{y0}" width="{W - LEFT - RIGHT}" height="{h}" fill="none" stroke="#999"/>')
    for t in ticks:
        y = y_of(t)
        if y < y0 - 0.5 or y > y0 + h + 0.5:
            continue
        label = f"{t:g}"
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{label}</text>')
    out.append(f'<text x="16" y="{y0 + h / 2}" font-size="11" transform="rotate(-90 16 {y0 + h / 2})" '
               f'text-anchor="middle">{esc(ylabel)}</text>')
    for xt in nice_ticks(0, x_max, 10):
        if xt > x_max:
            continue
        x = x_of(xt)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + h}" y2="{y0 + h + 4}" stroke="#999"/>')
        out.append(f'<text x="{x:.1f}" y="{y0 + h + 16}" font-size="11" text-anchor="middle">{xt:g}</text>')
    legend_y = y0 + 12
    for name, value, color in hlines:
        y = y_of(value)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" '
                   f'stroke-dasharray="5,4"/>')
        out.append(f'<text x="{W - RIGHT + 8}" y="{legend_y}" font-size="11" fill="{color}">{esc(name)}</text>')
        legend_y += 16
    for (name, color, ys) in series:
        pts = [f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in zip(xs, ys) if y is not None and (y > 0 or not log)]
        if pts:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{" ".join(pts)}"/>')
        out.append(f'<text x="{W - RIGHT + 8}" y="{legend_y}" font-size="11" fill="{color}">{esc(name)}</text>')
        legend_y += 16


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    title = argv[argv.index("--title") + 1] if "--title" in argv else "soak"
    with open(src, newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    if not rows:
        print("no rows in " + src, file=sys.stderr)
        return 1
    summary = {}
    side = os.path.join(os.path.dirname(src), "soak.json")
    if os.path.exists(side):
        with open(side) as f:
            summary = json.load(f)
    num = lambda r, k: float(r[k])
    xs = [num(r, "t_end_s") / 60 for r in rows]
    x_max = max(xs)
    hlines = []
    rss = summary.get("rss", {})
    if rss.get("at_warmup_end_mib"):
        w = rss["at_warmup_end_mib"]
        hlines = [(f"warm-up end {w:.0f} MiB", w, "#777"), ("+5%", w * 1.05, "#c33")]
    per_s = lambda r, k: num(r, k) / max(num(r, "length_s"), 1e-9)
    height = TOP + 3 * PANEL_H + 3 * GAP + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-family="sans-serif">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="15">{esc(title)}</text>']
    y = TOP + 20
    panel(out, y, "gridd RSS (MiB), highest sample per interval", xs,
          [("RSS max", "#1f77b4", [num(r, "rss_max_mib") for r in rows])], x_max, ylabel="MiB", hlines=hlines)
    y += PANEL_H + GAP
    panel(out, y, "latency from the moment each call was due (ms, log scale)", xs,
          [("submit p50", "#2ca02c", [num(r, "submit_p50_ms") for r in rows]),
           ("submit p99", "#98df8a", [num(r, "submit_p99_ms") for r in rows]),
           ("work p50", "#d62728", [num(r, "work_p50_ms") for r in rows]),
           ("work p99", "#ff9896", [num(r, "work_p99_ms") for r in rows])], x_max, log=True, ylabel="ms")
    y += PANEL_H + GAP
    panel(out, y, "acknowledged per second; errors", xs,
          [("submissions/s", "#2ca02c", [per_s(r, "acknowledged") for r in rows]),
           ("case work/s", "#d62728", [per_s(r, "work_ok") for r in rows]),
           ("errors/s", "#000000", [per_s(r, "errors") for r in rows])], x_max, ylabel="per s")
    out.append(f'<text x="{(W - RIGHT + LEFT) / 2}" y="{height - 4}" font-size="11" text-anchor="middle">'
               f'minutes since the traffic started</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
