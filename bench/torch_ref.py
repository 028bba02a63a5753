"""torch_ref.py - the PyTorch side of the benchmark's comparisons (Debian's
python3-torch, CPU). Run with /usr/bin/python3; prints one JSON object.

    torch_ref.py epoch IMAGES.npy LABELS.npy BATCH THREADS
        one training epoch of the paper's Fashion-MNIST MLP
        784-1024-1024-512-512-256-256-10, SGD lr 0.005 momentum 0.9, over
        the given samples: {"seconds", "samples", "loss"} (seconds: the
        epoch's loop only, as lincomp's `train` reports it)

    torch_ref.py tabular SPLIT_DIR THREADS SEEDS [--export DIR] NAME...
        the paper's OpenML recipe on each NAME-{train,val,test}.csv:
        in-64-128-128-256-256-out, Adam 1e-3, 10 epochs, batch 32, with
        lincomp's preprocessing redone here (see Preproc), once per seed of
        the comma-separated SEEDS: {"NAME": {"test_accs": [...],
        "val_accs": [...], "inputs", "seconds"}, ...}. With --export, the
        first seed's model is written as DIR/NAME-torch.onnx by
        torch.onnx.export (opset 13, a dynamic batch axis) together with
        its preprocessed splits DIR/NAME-torch-{train,val,test}.csv (numeric
        features, the class index in the last column), so that lincomp can
        compress a model it did not train
"""
import csv
import json
import math
import sys
import time

import numpy as np
import torch

MAX_CATEGORIES = 20  # lincomp's LC_FIT_CATEGORIES


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train_epoch(model, opt, x, y, batch, gen):
    loss_fn = torch.nn.CrossEntropyLoss()
    perm = torch.randperm(len(y), generator=gen)
    total = 0.0
    for i in range(0, len(y), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(y)


def cmd_epoch(images, labels, batch, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.from_numpy(np.load(images).astype(np.float32))
    y = torch.from_numpy(np.load(labels).astype(np.int64))
    model = mlp([784, 1024, 1024, 512, 512, 256, 256, 10])
    opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    loss = train_epoch(model, opt, x, y, batch, gen)
    dt = time.perf_counter() - t0
    return {"seconds": dt, "samples": len(y), "loss": loss, "batch": batch, "threads": threads}


def parse_number(s):
    """A float for a numeric cell, None for an empty one, NaN for text
    (strtod-like: surrounding spaces allowed)."""
    s = s.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return math.nan


class Preproc:
    """lincomp's CSV preprocessing (src/data/csv_load.c), fitted on the
    training rows: a column is numeric when every non-empty cell is a number
    (missing cells take the mean; standardised with the mean and population
    sd, sd 1 for a constant column); otherwise categorical, one-hot over its
    MAX_CATEGORIES most frequent non-empty values (ties: seen first) in sorted
    order, plus one 'other' slot for anything else, empty cells included.
    The label is the last column; classes are the sorted distinct labels."""

    def __init__(self, rows):
        self.cols = []
        for j in range(len(rows[0]) - 1):
            cells = [r[j] for r in rows]
            nums = [parse_number(c) for c in cells]
            if all(v is None or not math.isnan(v) for v in nums):
                vals = np.array([v for v in nums if v is not None], dtype=np.float64)
                mean = float(vals.mean()) if len(vals) else 0.0
                sd = float(vals.std()) if len(vals) else 0.0
                self.cols.append(("num", mean, sd if sd > 0 else 1.0))
            else:
                count, first = {}, {}
                for i, c in enumerate(cells):
                    if c:
                        count[c] = count.get(c, 0) + 1
                        first.setdefault(c, i)
                top = sorted(count, key=lambda c: (-count[c], first[c]))[:MAX_CATEGORIES]
                self.cols.append(("cat", sorted(top, key=lambda s: s.encode())))
        self.classes = sorted({r[-1] for r in rows}, key=lambda s: s.encode())

    def apply(self, rows):
        feats = []
        for j, c in enumerate(self.cols):
            if c[0] == "num":
                v = np.array([parse_number(r[j]) if r[j].strip() else c[1] for r in rows])
                feats.append(((v - c[1]) / c[2])[:, None])
            else:
                index = {s: k for k, s in enumerate(c[1])}
                m = np.zeros((len(rows), len(c[1]) + 1))
                for i, r in enumerate(rows):
                    m[i, index.get(r[j], len(c[1]))] = 1
                feats.append(m)
        x = np.concatenate(feats, axis=1).astype(np.float32)
        cls = {s: k for k, s in enumerate(self.classes)}
        y = np.array([cls.get(r[-1], -1) for r in rows], dtype=np.int64)
        return torch.from_numpy(x), torch.from_numpy(y)


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def write_numeric(path, x, y):
    """Features and class indices as a CSV lincomp reads as they are."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{j}" for j in range(x.shape[1])] + ["class"])
        for row, label in zip(x.numpy().tolist(), y.numpy().tolist()):
            w.writerow([repr(v) for v in row] + [label])


def export(model, pre_splits, out_dir, name):
    model.eval()
    (xtr, ytr), (xva, yva), (xte, yte) = pre_splits
    onnx_path = f"{out_dir}/{name}-torch.onnx"
    torch.onnx.export(model, xtr[:1], onnx_path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    for part, (x, y) in (("train", (xtr, ytr)), ("val", (xva, yva)), ("test", (xte, yte))):
        write_numeric(f"{out_dir}/{name}-torch-{part}.csv", x, y)


def cmd_tabular(split_dir, threads, seeds, names, export_dir=None):
    torch.set_num_threads(threads)
    out = {}
    for name in names:
        t0 = time.perf_counter()
        tr, va, te = (read_rows(f"{split_dir}/{name}-{p}.csv") for p in ("train", "val", "test"))
        pre = Preproc(tr)
        (xtr, ytr), (xva, yva), (xte, yte) = (pre.apply(r) for r in (tr, va, te))
        r = {"test_accs": [], "val_accs": [], "inputs": int(xtr.shape[1])}
        for seed in seeds:
            torch.manual_seed(seed)
            model = mlp([xtr.shape[1], 64, 128, 128, 256, 256, len(pre.classes)])
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            gen = torch.Generator().manual_seed(seed)
            for _ in range(10):
                train_epoch(model, opt, xtr, ytr, 32, gen)
            r["test_accs"].append(accuracy(model, xte, yte))
            r["val_accs"].append(accuracy(model, xva, yva))
            if export_dir and seed == seeds[0]:
                export(model, ((xtr, ytr), (xva, yva), (xte, yte)), export_dir, name)
        r["seconds"] = time.perf_counter() - t0
        out[name] = r
    return out


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "epoch":
        r = cmd_epoch(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) >= 5 and a[0] == "tabular":
        names, export_dir = a[4:], None
        if names[0] == "--export" and len(names) >= 3:
            export_dir, names = names[1], names[2:]
        r = cmd_tabular(a[1], int(a[2]), [int(x) for x in a[3].split(",")], names, export_dir)
    else:
        sys.exit(__doc__)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
