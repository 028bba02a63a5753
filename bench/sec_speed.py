"""sec_speed.py - speed, each as a ratio measured in the same run (issues 2,
3, 4), on the trained Fashion-MNIST MLP of sec_fmnist:

- lincomp's forward pass over the 10,000 test images against ONNX Runtime's
  on the same ONNX file, for three OpenBLAS kernel choices (the VM's CPU
  detection falls back to Prescott; the CLI then restarts itself with
  SkylakeX or Haswell kernels unless OPENBLAS_CORETYPE is set: the ratios
  of record use the kernels the CLI runs with here, read off the CLI);
- the statistics pass against ONNX Runtime's forward pass;
- the 20 plans + folds of a sweep (no evaluation) and a whole `lincomp
  sweep` process with test evaluation;
- `lincomp eval` against a node script that loads the same IDX data into
  ONNX Runtime, as whole processes (best of 3);
- one training epoch against PyTorch CPU, batch 32 and 256, same samples,
  threads and kernels (PyTorch runs with the CLI's OpenBLAS kernels).
"""
import json
import os

import numpy as np

import lib
from lib import CONFIG, OUT, THREADS, TEST_IMAGES, fm, say
from sec_fmnist import MODEL

FORWARD = os.path.join(lib.B, "bench_forward")
ORT_RUN = os.path.join(lib.ROOT, "tests", "tools", "ort_run.js")


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 2 and not w[0].endswith(":"):
            try:
                out[w[0]] = float(w[1])
            except ValueError:
                pass
        elif len(w) >= 2 and w[0] == "Core:":
            out["core"] = w[1]
    return out


def cli_kernels():
    """The OpenBLAS kernels the lincomp command runs with in this environment,
    as a key of res["forward"]."""
    out, err, _ = lib.run_full([lib.LINCOMP, "--version"], env={"OPENBLAS_VERBOSE": 2})
    cores = [w.split()[1] for w in (out + "\n" + err).splitlines() if w.startswith("Core:")]
    core = cores[-1] if cores else "?"
    return core if core in ("Haswell", "SkylakeX") else "detected"


def forward(res):
    say(f"== forward pass: {MODEL} (trained), 10,000 Fashion-MNIST test images, {THREADS} threads")
    for core in ("detected", "Haswell", "SkylakeX"):
        env = {"OPENBLAS_CORETYPE": None if core == "detected" else core,
               "OPENBLAS_NUM_THREADS": THREADS, "OPENBLAS_VERBOSE": 2}
        out, err, _ = lib.run_full([FORWARD, OUT, 5, MODEL], env=env)
        kv = parse_kv(out + "\n" + err)  # OpenBLAS says "Core: NAME" on stderr
        res["forward"][core] = {"kernels": kv.get("core", "?"), "forward_seconds": kv["forward_seconds"],
                                "stats_seconds": kv["stats_seconds"], "folds_seconds": kv["folds_seconds"]}
        say(f"  lincomp forward (OpenBLAS kernels: {core} -> {kv.get('core', '?')}): "
            f"{kv['forward_seconds']:.4f}s")
    res["cli_kernels"] = cli = cli_kernels()
    res["torch_kernels"] = res["forward"][cli]["kernels"]
    h = res["forward"][cli]
    if lib.have_node_ort():
        _, err, _ = lib.run_full(["node", ORT_RUN, MODEL, os.path.join(OUT, "t10k.npy"), "/dev/null",
                                  "--time", 7, "--threads", THREADS])
        ort = float(err.strip().splitlines()[-1])
        res["ort_forward_seconds"] = ort
        say(f"  ONNX Runtime forward: {ort:.4f}s")
        for core in ("detected", "Haswell", "SkylakeX"):
            r = res["forward"][core]["forward_seconds"] / ort
            res["forward"][core]["ratio_to_ort"] = r
            say(f"  ratio lincomp/ORT, {core} kernels: {r:.3f}"
                + ("  (what the lincomp CLI uses here)" if core == cli else ""))
        res["predict_vs_ort"] = h["forward_seconds"] / ort
        res["stats_vs_ort"] = h["stats_seconds"] / ort
        say(f"  statistics pass ({cli} kernels): {h['stats_seconds']:.4f}s, ratio to ORT forward: "
            f"{res['stats_vs_ort']:.3f} (goal <= 1)")
    else:
        lib.note("speed", "ONNX Runtime (tests/tools/node_modules) missing: no ratios to ORT")
    res["folds_seconds"] = h["folds_seconds"]


def sweep(res):
    say("== sweep: 20 thresholds on the trained model (calibration: 10,000 validation images, "
        "test: the 10,000 test images)")
    say(f"  20 plans + folds, no evaluation: {res['folds_seconds']:.4f}s (goal < 0.35 s; "
        "the authors' prototype: 349 s)")
    _, dt = lib.lc("sweep", MODEL, "--data", fm("val"), "--test", TEST_IMAGES, "--quiet")
    res["sweep_seconds"] = dt
    say(f"  lincomp sweep, whole process with test evaluation: {dt:.2f}s (goal < 3.5 s)")


def best_of(n, cmd, env=None):
    return min(lib.run(cmd, env=env)[1] for _ in range(n))


def whole_process(res):
    if not lib.have_node_ort():
        return
    say("== whole process: lincomp eval vs a node script that loads the same IDX data into ONNX Runtime")
    lp = best_of(3, [lib.LINCOMP, "eval", MODEL, "--data", TEST_IMAGES, "--threads", THREADS])
    op = best_of(3, ["node", os.path.join(lib.ROOT, "bench", "ort_eval.js"), MODEL, TEST_IMAGES])
    res["eval_process_seconds"] = lp
    res["ort_process_seconds"] = op
    res["eval_process_vs_ort"] = lp / op
    say(f"  lincomp eval {lp:.3f}s, ORT script {op:.3f}s, ratio {lp / op:.3f}")


def training(res):
    n = CONFIG["speed_samples"]
    say(f"== one training epoch: 784-1024-1024-512-512-256-256-10, SGD lr 0.005 momentum 0.9, "
        f"{n} Fashion-MNIST images, {THREADS} threads")
    x = os.path.join(OUT, f"fm-speed-{n}.npy")
    y = os.path.join(OUT, f"fm-speed-{n}-y.npy")
    if not os.path.exists(y):
        np.save(x, np.load(os.path.join(OUT, "fm-speed.npy"))[:n])
        np.save(y, np.load(os.path.join(OUT, "fm-speed-y.npy"))[:n])
    torch = lib.have_torch()
    if not torch:
        lib.note("speed", "PyTorch (python3-torch) missing: no training-speed ratio")
    res["train_epoch"] = {}
    for batch in (32, 256):
        j, _ = lib.lc_json("train", "--train", x, "--labels", y, "--hidden", lib.FM_HIDDEN,
                           "--optimizer", "sgd", "--lr", "0.005", "--momentum", "0.9",
                           "--batch", batch, "--epochs", 1, "--quiet",
                           "-o", os.path.join(OUT, "speed-train.onnx"))
        r = {"samples": n, "lincomp_seconds": j["seconds"]}
        line = f"  batch {batch}: lincomp {j['seconds']:.2f}s ({1e3 * j['seconds'] / n:.3f} ms/sample)"
        if torch:
            out, _ = lib.run([lib.PY, os.path.join(lib.ROOT, "bench", "torch_ref.py"), "epoch", x, y,
                              batch, THREADS],
                             env={"OPENBLAS_CORETYPE": res.get("torch_kernels", "Haswell"),
                                  "OPENBLAS_NUM_THREADS": THREADS,
                                  "OMP_NUM_THREADS": THREADS})
            t = json.loads(out)
            r["torch_seconds"] = t["seconds"]
            r["ratio"] = j["seconds"] / t["seconds"]  # same samples: the per-sample ratio
            line += f", PyTorch {t['seconds']:.2f}s, ratio {r['ratio']:.3f} (goal <= 1)"
        res["train_epoch"][str(batch)] = r
        say(line)
    if "ratio" in res["train_epoch"]["32"]:
        res["train_epoch_vs_torch"] = res["train_epoch"]["32"]["ratio"]
        res["train_epoch_vs_torch_b256"] = res["train_epoch"]["256"]["ratio"]
        t = res["train_epoch"]["32"]
        minutes = t["torch_seconds"] / n * 50000 * 10 / 60
        lib.note("speed", f"PyTorch's Fashion-MNIST accuracy with the paper's recipe is not compared: at the "
                          f"measured {1e3 * t['torch_seconds'] / n:.2f} ms per sample, its 10 epochs of "
                          f"50,000 images would take about {minutes:.0f} minutes of the 45")


def run():
    if not os.path.exists(MODEL):
        raise lib.Failed("no trained model: the fmnist-train section did not run")
    res = {"threads": THREADS, "model": "trained Fashion-MNIST MLP (fmnist-train)", "forward": {}}
    for name, fn in (("forward", forward), ("sweep", sweep), ("whole process", whole_process),
                     ("training", training)):
        try:
            fn(res)
        except (lib.Failed, KeyError, ValueError, IndexError) as e:
            lib.note("speed", f"{name} failed: {e}")
    return res
