"""figures.py - the benchmark's SVG figures, drawn from results.json by
report.py: a small plotting layer (axes with ticks, polylines, box plots)
and the figures built on it. Standard library only; the output is plain
SVG 1.1 that browsers and GitHub render.
"""
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_ticks(lo, hi, n=5):
    """About n round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 2.5, 5, 10):
        if (hi - lo) / (m * step) <= n:
            step *= m
            break
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + 1e-9 * step:
        out.append(round(t, 10))
        t += step
    return out


class Panel:
    """One plot area inside an SVG: maps data to pixels, draws into parts."""

    def __init__(self, svg, x, y, w, h, xr, yr, title, xlabel, ylabel, xticks=None, xticklabels=None):
        self.svg, self.x, self.y, self.w, self.h = svg, x, y, w, h
        pad = 0.05 * ((yr[1] - yr[0]) or 1)
        yr = (yr[0] - pad, yr[1] + pad)
        yt = nice_ticks(*yr)
        self.xr = xr
        self.yr = (min(yt[0], yr[0]), max(yt[-1], yr[1]))
        p = svg.parts
        p.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#444"/>')
        p.append(f'<text x="{x + w / 2}" y="{y - 10}" text-anchor="middle" font-weight="bold">{esc(title)}</text>')
        p.append(f'<text x="{x + w / 2}" y="{y + h + 38}" text-anchor="middle">{esc(xlabel)}</text>')
        p.append(f'<text transform="translate({x - 48},{y + h / 2}) rotate(-90)" text-anchor="middle">'
                 f'{esc(ylabel)}</text>')
        for t in yt:
            py = self.py(t)
            p.append(f'<line x1="{x}" x2="{x + w}" y1="{py:.1f}" y2="{py:.1f}" stroke="#ddd"/>')
            p.append(f'<text x="{x - 6}" y="{py + 4:.1f}" text-anchor="end">{t:g}</text>')
        xt = xticks if xticks is not None else nice_ticks(*xr)
        labels = xticklabels or [f"{t:g}" for t in xt]
        for t, lab in zip(xt, labels):
            px = self.px(t)
            if x - 1 <= px <= x + w + 1:
                p.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y + h}" y2="{y + h + 5}" stroke="#444"/>')
                p.append(f'<text x="{px:.1f}" y="{y + h + 19}" text-anchor="middle">{esc(lab)}</text>')

    def px(self, v):
        lo, hi = self.xr
        return self.x + (v - lo) / ((hi - lo) or 1) * self.w

    def py(self, v):
        lo, hi = self.yr
        return self.y + self.h - (v - lo) / ((hi - lo) or 1) * self.h

    def line(self, pts, color, label=None, dash=None, marker=True):
        if not pts:
            return
        d = " ".join(f"{self.px(a):.1f},{self.py(b):.1f}" for a, b in pts)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.svg.parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{extra}/>')
        if marker:
            for a, b in pts:
                self.svg.parts.append(f'<circle cx="{self.px(a):.1f}" cy="{self.py(b):.1f}" r="3" fill="{color}"/>')
        if label:
            self.svg.legend.append((label, color, dash))

    def hline(self, v, color, label=None):
        py = self.py(v)
        self.svg.parts.append(f'<line x1="{self.x}" x2="{self.x + self.w}" y1="{py:.1f}" y2="{py:.1f}" '
                              f'stroke="{color}" stroke-dasharray="6,4"/>')
        if label:
            self.svg.legend.append((label, color, "6,4"))

    def box(self, center, width, values, color):
        """Box plot of values at x=center: median, quartiles, whiskers at
        1.5 IQR, outliers as dots."""
        if not values:
            return
        v = sorted(values)

        def q(f):
            k = (len(v) - 1) * f
            i = int(math.floor(k))
            return v[i] + (v[min(i + 1, len(v) - 1)] - v[i]) * (k - i)
        q1, med, q3 = q(0.25), q(0.5), q(0.75)
        iqr = q3 - q1
        lo = min(x for x in v if x >= q1 - 1.5 * iqr)
        hi = max(x for x in v if x <= q3 + 1.5 * iqr)
        cx, hw = self.px(center), width / 2
        p = self.svg.parts
        p.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{self.py(lo):.1f}" y2="{self.py(hi):.1f}" stroke="{color}"/>')
        for w in (lo, hi):
            p.append(f'<line x1="{cx - hw / 2:.1f}" x2="{cx + hw / 2:.1f}" y1="{self.py(w):.1f}" '
                     f'y2="{self.py(w):.1f}" stroke="{color}"/>')
        p.append(f'<rect x="{cx - hw:.1f}" y="{self.py(q3):.1f}" width="{2 * hw:.1f}" '
                 f'height="{max(self.py(q1) - self.py(q3), 1):.1f}" fill="{color}" fill-opacity="0.25" stroke="{color}"/>')
        p.append(f'<line x1="{cx - hw:.1f}" x2="{cx + hw:.1f}" y1="{self.py(med):.1f}" y2="{self.py(med):.1f}" '
                 f'stroke="{color}" stroke-width="2.5"/>')
        for x in v:
            if x < lo or x > hi:
                p.append(f'<circle cx="{cx:.1f}" cy="{self.py(x):.1f}" r="2.5" fill="none" stroke="{color}"/>')


class Svg:
    def __init__(self, w, h, title):
        self.w, self.h, self.title = w, h, title
        self.parts, self.legend = [], []

    def text(self):
        """The SVG document; the legend goes below the plots, wrapped into
        as many rows as it needs (the image grows to hold them)."""
        rows, row, x, seen = [], [], 20, set()
        for label, color, dash in self.legend:
            if label in seen:
                continue
            seen.add(label)
            w = 40 + 7 * len(label)
            if row and x + w > self.w - 10:
                rows.append(row)
                row, x = [], 20
            row.append((x, label, color, dash))
            x += w
        if row:
            rows.append(row)
        h = self.h + 20 * max(len(rows) - 1, 0)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{h}" '
                f'viewBox="0 0 {self.w} {h}" font-family="sans-serif" font-size="12">\n'
                f'<rect width="100%" height="100%" fill="white"/>\n'
                f'<text x="{self.w / 2}" y="22" text-anchor="middle" font-size="15">{esc(self.title)}</text>\n')
        leg = []
        for i, r in enumerate(rows):
            y = self.h - 14 + 20 * i
            for x, label, color, dash in r:
                extra = f' stroke-dasharray="{dash}"' if dash else ""
                leg.append(f'<line x1="{x}" x2="{x + 24}" y1="{y}" y2="{y}" stroke="{color}" '
                           f'stroke-width="2"{extra}/><text x="{x + 30}" y="{y + 4}">{esc(label)}</text>')
        return head + "\n".join(self.parts + leg) + "\n</svg>\n"


def tabular_boxplot(rows):
    """Test accuracy and its change against the original across the tabular
    data sets: original, 75/50/25 % of the size, and the 0.5 pp budget."""
    groups = [("original", [r["test_acc"] for r in rows])]
    for t in ("0.75", "0.5", "0.25"):
        groups.append((f"{float(t) * 100:g} %", [r["target"][t]["test_acc"] for r in rows]))
    groups.append(("<= 0.5 pp", [r["max_drop_0.5pp"]["test_acc"] for r in rows]))
    svg = Svg(900, 440, f"Tabular suite ({len(rows)} data sets): test accuracy by compressed size")
    n = len(groups)
    lo = min(min(v) for _, v in groups)
    a = Panel(svg, 80, 60, 340, 300, (-0.5, n - 0.5), (max(0, lo - 0.02), 1.0), "test accuracy",
              "size (share of the parameters)", "accuracy", list(range(n)), [g for g, _ in groups])
    for i, (_, v) in enumerate(groups):
        a.box(i, 36, v, COLORS[0])
    diffs = [(g, [100 * (x - o) for x, o in zip(v, groups[0][1])]) for g, v in groups[1:]]
    dlo = min(min(v) for _, v in diffs)
    dhi = max(max(v) for _, v in diffs)
    b = Panel(svg, 530, 60, 340, 300, (-0.5, n - 1.5), (min(dlo, -1), max(dhi, 1)), "change against the original",
              "size (share of the parameters)", "test accuracy change (pp)", list(range(n - 1)),
              [g for g, _ in diffs])
    b.hline(-0.5, COLORS[1], "-0.5 pp")
    for i, (_, v) in enumerate(diffs):
        b.box(i, 36, v, COLORS[0])
    return svg.text()


def fmnist_methods(fm, induced):
    """Fashion-MNIST test accuracy against size: the threshold sweep (paper,
    no fine-tuning), the target sizes with and without fine-tuning, and
    issue 9's induced linearity and importance pruning."""
    svg = Svg(640, 460, "Fashion-MNIST MLP: test accuracy against size")
    p0 = fm["params"]
    series = []
    if fm.get("sweep"):
        series.append(("threshold sweep (paper)", [(r["params"] / p0, r["test_acc"]) for r in fm["sweep"]], None))
    tg = fm.get("target") or {}
    if tg:
        ks = sorted(tg, key=float)
        series.append(("target size", [(tg[k]["size_ratio"], tg[k]["test_acc"]) for k in ks], None))
        series.append(("target size + fine-tuning", [(tg[k]["size_ratio"], tg[k]["test_acc_finetuned"])
                                                     for k in ks], None))
    sizes = (induced or {}).get("sizes") or {}
    ks = sorted(sizes, key=float)
    for key, label in (("induced", "induced linearity"), ("pruning", "importance pruning")):
        pts = [(sizes[k][key]["size_ratio"], sizes[k][key]["test_acc"]) for k in ks if key in sizes[k]]
        if pts:
            series.append((label, pts, None))
    ys = [y for _, pts, _ in series for _, y in pts] + [fm["test_acc"]]
    lo = max(0.0, min(ys) - 0.01)
    p = Panel(svg, 80, 50, 520, 320, (0, 1.0), (lo, max(ys) + 0.005), "", "size (share of the original parameters)",
              "test accuracy")
    p.hline(fm["test_acc"], "#555", f"original ({fm['test_acc']:.4f})")
    for i, (label, pts, dash) in enumerate(series):
        p.line(sorted(pts), COLORS[i % len(COLORS)], label, dash)
    return svg.text()


def induced_boxplot(tab):
    """Tabular suite: test accuracy change against the original per method
    and budget (issue 9)."""
    sizes = sorted({s for d in tab.values() for s in d["sizes"]}, key=float, reverse=True)
    methods = (("induced", "induced"), ("paper_finetuned", "paper + ft"), ("pruning", "pruning"))
    svg = Svg(900, 440, f"Tabular suite ({len(tab)} data sets): accuracy change at equal size, by method")
    vals = []
    for s in sizes:
        for key, _ in methods:
            v = []
            for d in tab.values():
                m = d["sizes"].get(s, {}).get(key)
                if m:
                    v.append(100 * (m.get("test_acc_finetuned", m["test_acc"]) - d["test_acc"]))
            vals.append(v)
    flat = [x for v in vals for x in v] or [0]
    p = Panel(svg, 80, 60, 780, 300, (-0.5, len(sizes) - 0.5), (min(min(flat), -1), max(max(flat), 1)), "",
              "target size (share of the parameters)", "test accuracy change (pp)", list(range(len(sizes))),
              [f"{float(s) * 100:g} %" for s in sizes])
    p.hline(-1.0, "#555", "-1 pp")
    i = 0
    for si in range(len(sizes)):
        for mi, (_, label) in enumerate(methods):
            p.box(si + (mi - 1) * 0.27, 28, vals[i], COLORS[mi])
            svg.legend.append((label, COLORS[mi], None))
            i += 1
    return svg.text()
