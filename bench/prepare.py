"""prepare.py - the benchmark's data splits, written once into OUT_DIR.

    /usr/bin/python3 bench/prepare.py OUT_DIR [--quick]

Fashion-MNIST (Debian's dataset-fashion-mnist): the 60,000 training images are
split 50,000 / 10,000 into train / validation by a seeded permutation, as IDX
files with their labels beside them (`*-images-idx3-ubyte` next to
`*-labels-idx1-ubyte`), so every lincomp command finds the labels by itself
and the pixels stay the original bytes. The 10,000 test images are used as
they are. `fm-speed` holds the first 10,000 images of the training split for
the one-epoch speed comparison with PyTorch, also as NPY for the PyTorch
script.

Tabular data (../shared/data, MANIFEST.tsv): a 60/20/20 train/val/test split
per data set, stratified by class with a fixed seed so every class that has
a sample in val or test has one in train (lincomp learns the class names from
the training file). The CSV rows are copied verbatim; only their order and
file changes. Files already present are left alone (the splits never change
for a given seed). --quick changes nothing here: sizes are cut elsewhere.
"""
import csv
import gzip
import os
import sys

import numpy as np

FMNIST = "/usr/share/datasets/fashion-mnist"
SEED = 20250626  # the paper's arXiv month; any fixed number would do


def read_idx(path):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_idx(path, arr):
    """Unsigned-byte IDX: magic 0 0 8 ndim, big-endian dims, then the bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head)
        f.write(arr.tobytes())
    os.replace(tmp, path)


def write_npy(path, arr):
    tmp = path + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, path)


def fmnist(out):
    if os.path.exists(os.path.join(out, "fm-speed.npy")):
        return
    x = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"))
    perm = np.random.default_rng(SEED).permutation(len(y))
    parts = {"fm-train": perm[:50000], "fm-val": perm[50000:], "fm-speed": perm[:10000]}
    for name, idx in parts.items():
        write_idx(os.path.join(out, name + "-labels-idx1-ubyte"), y[idx])
        write_idx(os.path.join(out, name + "-images-idx3-ubyte"), x[idx])
    idx = parts["fm-speed"]
    write_npy(os.path.join(out, "fm-speed-y.npy"), y[idx].astype(np.int64))
    write_npy(os.path.join(out, "fm-speed.npy"), x[idx].reshape(len(idx), -1).astype(np.float32) / 255)


def split_rows(labels, rng):
    """Indices of train/val/test: per class, a shuffled 60/20/20 cut where
    train gets at least one sample of every class."""
    parts = ([], [], [])
    for c in sorted(set(labels)):
        idx = [i for i, v in enumerate(labels) if v == c]
        rng.shuffle(idx)
        n = len(idx)
        n_val = int(round(0.2 * n))
        n_test = int(round(0.2 * n))
        if n_val + n_test >= n:  # tiny class: keep one for training
            n_test = min(n_test, max(n - 1, 0))
            n_val = min(n_val, max(n - 1 - n_test, 0))
        parts[1].extend(idx[:n_val])
        parts[2].extend(idx[n_val:n_val + n_test])
        parts[0].extend(idx[n_val + n_test:])
    for p in parts:
        p.sort()
        rng.shuffle(p)  # the training order carries no class pattern
    return parts


def tabular(out, data_dir):
    names = []
    with open(os.path.join(data_dir, "MANIFEST.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            names.append(row["file"][:-4])
    for name in names:
        dst = [os.path.join(out, "tab", f"{name}-{p}.csv") for p in ("train", "val", "test")]
        if all(os.path.exists(p) for p in dst):
            continue
        os.makedirs(os.path.join(out, "tab"), exist_ok=True)
        with open(os.path.join(data_dir, name + ".csv"), newline="") as f:
            rows = list(csv.reader(f))
        head, body = rows[0], rows[1:]
        rng = np.random.default_rng(SEED)
        parts = split_rows([r[-1] for r in body], rng)
        for path, idx in zip(dst, parts):
            tmp = path + ".tmp"
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(head)
                w.writerows(body[i] for i in idx)
            os.replace(tmp, path)
    return names


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: prepare.py OUT_DIR [--quick]")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    fmnist(out)
    here = os.path.dirname(os.path.abspath(__file__))
    tabular(out, os.path.join(here, "..", "..", "shared", "data"))


if __name__ == "__main__":
    main()
