"""Shared fixtures: the lincomp program beside the library under test (the
same build), the real-client fixtures, a temporary folder and a runner for
the CLI whose numbers the binding must match."""
import json
import os
import subprocess

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures")
LINCOMP = os.environ.get("LINCOMP") or os.path.join(ROOT, "build", "lincomp")


def manifest():
    """(model, input npy, expected npy) of every NPY row of MANIFEST.tsv."""
    rows = []
    with open(os.path.join(FIX, "MANIFEST.tsv")) as f:
        next(f)
        for line in f:
            m, inp, exp = line.split("\t")[:3]
            if inp.endswith(".npy"):
                rows.append((m, inp, exp))
    return rows


def cli(*args, check=True):
    """Runs the lincomp program; returns stdout."""
    r = subprocess.run([LINCOMP] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode:
        raise AssertionError("lincomp %s: exit %d: %s" % (args[0], r.returncode, r.stderr))
    return r.stdout


def cli_json(*args):
    return json.loads(cli(*args, "--json"))


def read_csv(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)


def strip(rep):
    """The report without what names files or measures time."""
    if isinstance(rep, dict):
        return {k: strip(v) for k, v in rep.items()
                if k not in ("model", "output", "data", "val", "train", "teacher")
                and "seconds" not in k and not k.endswith("_secs")}
    if isinstance(rep, list):
        return [strip(v) for v in rep]
    return rep


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
