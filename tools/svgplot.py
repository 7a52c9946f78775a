"""A small SVG chart writer (no plotting library needed): series of points
with lines and markers, linear or log axes, a legend. Used by
tools/reproduce.py."""
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _ticks(lo, hi, log):
    if log:
        return [10 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-12)))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= 8:
            step *= m
            break
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int(math.ceil((hi - start) / step)) + 1)]


def chart(series, path, title, xlabel, ylabel, xlog=False, ylog=False, lines=True, hline=None, vline=None):
    """series: [(label, [(x, y, note-or-None), ...])]. Writes an SVG file to `path`."""
    # The legend sits right of the plot, as wide as its longest label.
    right = 50 + 7 * max(len(label) for label, _ in series)
    left, top, bottom, h = 70, 40, 60, 460
    w = left + 420 + right
    xs = [p[0] for _, pts in series for p in pts] + ([vline] if vline else [])
    ys = [p[1] for _, pts in series for p in pts] + ([hline] if hline else [])
    xt, yt = _ticks(min(xs), max(xs), xlog), _ticks(min(ys), max(ys), ylog)
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]
    tx = (lambda v: math.log10(v)) if xlog else (lambda v: v)
    ty = (lambda v: math.log10(v)) if ylog else (lambda v: v)

    def px(v):
        return left + (tx(v) - tx(x0)) / ((tx(x1) - tx(x0)) or 1) * (w - left - right)

    def py(v):
        return h - bottom - (ty(v) - ty(y0)) / ((ty(y1) - ty(y0)) or 1) * (h - top - bottom)

    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
         f'<rect width="{w}" height="{h}" fill="white"/>',
         f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    for v in xt:
        e.append(f'<line x1="{px(v):.1f}" y1="{top}" x2="{px(v):.1f}" y2="{h - bottom}" stroke="#ddd"/>')
        e.append(f'<text x="{px(v):.1f}" y="{h - bottom + 16}" text-anchor="middle">{v:g}</text>')
    for v in yt:
        e.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{w - right}" y2="{py(v):.1f}" stroke="#ddd"/>')
        e.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    if hline is not None:
        e.append(f'<line x1="{left}" y1="{py(hline):.1f}" x2="{w - right}" y2="{py(hline):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    if vline is not None:
        e.append(f'<line x1="{px(vline):.1f}" y1="{top}" x2="{px(vline):.1f}" y2="{h - bottom}" stroke="#888" stroke-dasharray="4 3"/>')
    e.append(f'<text x="{(left + w - right) / 2}" y="{h - 20}" text-anchor="middle">{xlabel}</text>')
    mid = (top + h - bottom) / 2
    e.append(f'<text x="18" y="{mid}" text-anchor="middle" transform="rotate(-90 18 {mid})">{ylabel}</text>')
    for k, (label, pts) in enumerate(series):
        color = COLORS[k % len(COLORS)]
        pts = sorted(pts, key=lambda p: p[0]) if lines else pts
        if lines and len(pts) > 1:
            e.append('<polyline points="' + " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _ in pts)
                     + f'" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, note in pts:
            e.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{color}"/>')
            if note:
                e.append(f'<text x="{px(x) + 6:.1f}" y="{py(y) - 6:.1f}" font-size="10" fill="{color}">{note}</text>')
        ly = top + 10 + 18 * k
        e.append(f'<line x1="{w - right + 12}" y1="{ly - 4}" x2="{w - right + 32}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
        e.append(f'<text x="{w - right + 38}" y="{ly}">{label}</text>')
    e.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(e) + "\n")
