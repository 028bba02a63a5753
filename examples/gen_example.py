#!/usr/bin/python3
"""The bundled example model: a small ReLU MLP (4-16-16-3) trained in PyTorch
on the iris data and written with torch.onnx.export, as a user would.

    /usr/bin/python3 examples/gen_example.py [IRIS.csv]

Reads ../shared/data/iris.csv by default (4 numeric columns, then the class).
The model takes the 4 raw measurements (no scaling outside the model) and
returns 3 logits in the order of the sorted class names. Writes, beside this
script: iris.onnx and iris-sample.csv (5 rows of the 4 feature columns, with
the CSV's header names, no label). Deterministic: fixed seed, full-batch Adam.
"""
import csv
import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "shared", "data", "iris.csv")
SAMPLE_ROWS = [0, 50, 100, 25, 140]     # setosa, versicolor, virginica, ...
EPOCHS = 600


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    x = np.array([[float(v) for v in r[:4]] for r in body], dtype=np.float32)
    names = sorted({r[4] for r in body})
    y = np.array([names.index(r[4]) for r in body], dtype=np.int64)
    return header[:4], x, y, names


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA
    header, x, y, names = load(path)
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(EPOCHS):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(xt).argmax(dim=1) == yt).float().mean())
    out = os.path.join(HERE, "iris.onnx")
    torch.onnx.export(model, xt[:2], out, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(out))
    with open(os.path.join(HERE, "iris-sample.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for i in SAMPLE_ROWS:
            f.write(",".join("%g" % v for v in x[i]) + "\n")
    print("iris.onnx: loss %.4f, training accuracy %.3f, classes %s"
          % (float(loss), acc, ", ".join(names)))


if __name__ == "__main__":
    main()
