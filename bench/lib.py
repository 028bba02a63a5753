"""lib.py - what every benchmark section shares: the configuration (full or
quick), running lincomp and other programs with timing, reading their JSON,
keeping each section's results in build/bench/results/SECTION.json, and the
notes that explain what was skipped or cut.

Only the standard library: sections import numpy where they need it.
"""
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
B = os.path.join(ROOT, os.environ.get("B", "build"))
OUT = os.path.join(B, "bench")
LINCOMP = os.path.join(B, "lincomp")
PY = "/usr/bin/python3"  # Debian's python3 (numpy, torch), not a user's pyenv
FMNIST = "/usr/share/datasets/fashion-mnist"
TEST_IMAGES = os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz")
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
THREADS = int(os.environ.get("THREADS") or os.cpu_count() or 1)
FM_HIDDEN = "1024,1024,512,512,256,256"
TAB_HIDDEN = "64,128,128,256,256"


def fm(name):
    """Path of a Fashion-MNIST split written by prepare.py."""
    return os.path.join(OUT, f"fm-{name}-images-idx3-ubyte")


# The knobs that trade time for fidelity. Full: the budget of `make bench`
# (45 minutes on 2 cores, see bench.py); quick: a few minutes, for development.
CONFIG = {
    "fm_train": fm("speed") if QUICK else fm("train"),  # 10,000 or 50,000 images
    "fm_epochs": 3 if QUICK else 10,  # cap on the early-stopped training
    "fm_patience": 3,
    "fm_finetune_epochs": 2,
    "fm_search_val": 1000 if QUICK else 2000,  # images the budget search evaluates
    "fm_prune_epochs": 2,
    "fm_induce_epochs": 2,  # induction + fine-tuning epochs
    "induce_sizes": [0.5, 0.15] if QUICK else [0.75, 0.5, 0.25, 0.15],
    "speed_samples": 2000 if QUICK else 10000,  # training-speed comparison
    "lp_time": 5 if QUICK else 20,
    "tab_epochs": 10,
    # None: all; BENCH_TAB_SETS=a,b picks some (development)
    "tab_sets": ([s for s in os.environ.get("BENCH_TAB_SETS", "").split(",") if s]
                 or (["iris", "wdbc", "diabetes", "penguins", "vote"] if QUICK else None)),
    "tab_induce_epochs": 3 if QUICK else 5,
    "tab_seeds": 1 if QUICK else 3,  # lincomp vs PyTorch: mean over seeds
}

_notes = []
_deadline = [None]


def set_deadline(t):
    """The monotonic time by which the run should end (bench.py sets it)."""
    _deadline[0] = t


def remaining():
    """Seconds left in the run's time budget (infinite when none is set)."""
    return float("inf") if _deadline[0] is None else _deadline[0] - time.monotonic()


def reset_notes():
    _notes.clear()


def note(section, text):
    """A line for RESULTS.md's notes: what was skipped, cut or failed."""
    _notes.append({"section": section, "note": text})
    print(f"  note: {text}", flush=True)


def notes():
    return list(_notes)


class Failed(Exception):
    """A command failed; the message holds its stderr's last lines."""


def run_full(cmd, env=None, timeout=None):
    """Runs cmd (a list) in the repository root; returns (stdout, stderr, wall
    seconds). env entries override the environment (None removes one).
    Raises Failed with the command and its last stderr lines on a non-zero
    exit or a timeout."""
    e = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    t0 = time.monotonic()
    try:
        p = subprocess.run([str(c) for c in cmd], env=e, capture_output=True, text=True,
                           timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as x:
        raise Failed(f"{' '.join(map(str, cmd[:3]))} ...: timed out after {timeout} s") from x
    dt = time.monotonic() - t0
    if p.returncode != 0:
        tail = " | ".join(p.stderr.strip().splitlines()[-3:])
        raise Failed(f"{' '.join(map(str, cmd))}: exit {p.returncode}: {tail}")
    return p.stdout, p.stderr, dt


def run(cmd, env=None, timeout=None):
    """run_full without stderr: (stdout, wall seconds)."""
    out, _, dt = run_full(cmd, env, timeout)
    return out, dt


def lc(*args, threads=None, timeout=None):
    """Runs `lincomp ARGS --threads T`; returns (stdout, seconds)."""
    return run([LINCOMP, *args, "--threads", threads or THREADS], timeout=timeout)


def lc_json(*args, threads=None, timeout=None):
    """Runs lincomp with --json; returns (parsed stdout, seconds)."""
    out, dt = lc(*args, "--json", threads=threads, timeout=timeout)
    return json.loads(out), dt


def lc_report(*args, threads=None, timeout=None):
    """Runs a lincomp command that writes --report FILE; returns (report, seconds).
    The report's name comes from -o, so parallel runs do not collide."""
    args = list(args)
    out = args[args.index("-o") + 1] if "-o" in args else os.path.join(OUT, "tmp.onnx")
    rep = out + ".report.json"
    if os.path.exists(rep):
        os.remove(rep)
    _, dt = lc(*args, "--report", rep, "--quiet", threads=threads, timeout=timeout)
    with open(rep) as f:
        return json.load(f), dt


def evaluate(model, data, threads=None):
    """`lincomp eval --json` of MODEL on labelled DATA: samples, accuracy, loss, params."""
    j, _ = lc_json("eval", model, "--data", data, threads=threads)
    return j


def accuracy(model, data, threads=None):
    return evaluate(model, data, threads)["accuracy"]


def has_command(*words):
    """True when `lincomp WORDS --help` exits 0 (a subcommand exists)."""
    try:
        run([LINCOMP, *words, "--help"])
        return True
    except Failed:
        return False


def help_has(cmd, option):
    try:
        out, _ = run([LINCOMP, cmd, "--help"])
    except Failed:
        return False
    return option in out


def have_torch():
    try:
        run([PY, "-c", "import torch, numpy"])
        return True
    except (Failed, OSError):
        return False


def have_node_ort():
    return shutil.which("node") is not None and os.path.isdir(
        os.path.join(ROOT, "tests", "tools", "node_modules", "onnxruntime-node"))


def results_path(section):
    return os.path.join(OUT, "results", section + ".json")


def save(section, obj):
    """Writes one section's results (atomic rename, so a crash leaves the old one)."""
    path = results_path(section)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(path + ".tmp", path)


def load(section):
    try:
        with open(results_path(section)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def say(text):
    print(text, flush=True)


def die(text):
    print(f"bench: {text}", file=sys.stderr)
    sys.exit(1)
