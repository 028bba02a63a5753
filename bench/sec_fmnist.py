"""sec_fmnist.py - Fashion-MNIST with the paper's MLP 784-1024-1024-512-512-
256-256-10 (issue 6, item 1).

train:   the paper's recipe (SGD lr 0.005, momentum 0.9, batch 32, early
         stopping with patience 3 on the 10,000 validation images, epochs
         capped by CONFIG["fm_epochs"] so the section fits the time budget).
run:     the threshold sweep (calibration: validation images; accuracy: the
         10,000 test images) and its figure; target sizes 75/50/25 % without
         and with fine-tuning; importance pruning to 60 % then linearity
         compression (the combination experiment).

The budget searches (--target-size, --max-drop) evaluate candidates on the
first CONFIG["fm_search_val"] validation images (fm-search), calibration uses
all 10,000; test accuracy always uses the 10,000 test images.
"""
import math
import os
import shutil

import numpy as np

import lib
from lib import CONFIG, OUT, TEST_IMAGES, fm, lc, lc_json, lc_report, say

MODEL = os.path.join(OUT, "fm-mlp.onnx")
FIGURES = os.path.join(lib.ROOT, "bench", "figures")


def recipe():
    return (f"train={os.path.basename(CONFIG['fm_train'])} hidden={lib.FM_HIDDEN} sgd lr=0.005 "
            f"momentum=0.9 batch=32 patience={CONFIG['fm_patience']} epochs<={CONFIG['fm_epochs']} seed=0")


def write_search_split():
    """fm-search: the first N validation images, for the budget searches."""
    n = CONFIG["fm_search_val"]
    dst = fm("search")
    tag = dst + ".n"
    if os.path.exists(tag) and open(tag).read() == str(n):
        return dst
    for kind, dims in (("images-idx3", 3), ("labels-idx1", 1)):
        src = fm("val").replace("images-idx3", kind)
        with open(src, "rb") as f:
            buf = f.read()
        shape = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
        row = int(np.prod(shape[1:])) if dims > 1 else 1
        head = bytes([0, 0, 8, dims]) + n.to_bytes(4, "big") + b"".join(
            s.to_bytes(4, "big") for s in shape[1:])
        body = buf[4 + 4 * dims:4 + 4 * dims + n * row]
        with open(dst.replace("images-idx3", kind), "wb") as f:
            f.write(head + body)
    with open(tag, "w") as f:
        f.write(str(n))
    return dst


def train():
    """Trains the model (or reuses it with BENCH_REUSE=1 when the recipe matches)."""
    tag = MODEL + ".recipe"
    if (os.environ.get("BENCH_REUSE") and os.path.exists(MODEL) and os.path.exists(tag)
            and open(tag).read() == recipe()):
        lib.note("fmnist", "BENCH_REUSE=1: the trained model of an earlier run was reused")
        res = lib.load("fmnist-train")
        if res:
            return res
    if os.path.exists(tag):
        os.remove(tag)
    say(f"  training: {recipe()}")
    j, dt = lc_json("train", "--train", CONFIG["fm_train"], "--val", fm("val"),
                    "--hidden", lib.FM_HIDDEN, "--optimizer", "sgd", "--lr", "0.005",
                    "--momentum", "0.9", "--batch", "32", "--patience", CONFIG["fm_patience"],
                    "--epochs", CONFIG["fm_epochs"], "--seed", "0", "--quiet", "-o", MODEL)
    with open(tag, "w") as f:
        f.write(recipe())
    stopped = j["epochs_run"] < CONFIG["fm_epochs"]
    if not stopped:
        lib.note("fmnist", f"training reached the epoch cap ({CONFIG['fm_epochs']}) before early "
                           "stopping: the cap keeps `make bench` within its time budget")
    e = lib.evaluate(MODEL, TEST_IMAGES)
    res = {"params": e["params"], "test_acc": e["accuracy"], "val_acc": j["val_accuracy"],
           "epochs_run": j["epochs_run"], "epoch_kept": j["epoch_kept"],
           "early_stopped": stopped, "train_seconds": j["seconds"], "recipe": recipe(),
           "train_samples": 10000 if lib.QUICK else 50000}
    say(f"  {j['epochs_run']} epochs ({'early stop' if stopped else 'cap'}), kept epoch "
        f"{j['epoch_kept']}, val {j['val_accuracy']:.4f}, test {e['accuracy']:.4f}, {dt:.0f} s")
    return res


def sweep():
    os.makedirs(FIGURES, exist_ok=True)
    svg = os.path.join(OUT, "fmnist_sweep.svg")
    j, dt = lc_json("sweep", MODEL, "--data", fm("val"), "--test", TEST_IMAGES, "--svg", svg, "--quiet")
    shutil.copyfile(svg, os.path.join(FIGURES, "fmnist_sweep.svg"))
    rows = [{k: r[k] for k in ("threshold", "params", "dense_params", "skip_params", "test_acc")}
            for r in j["sweep"]]
    say(f"  sweep: {len(rows)} thresholds in {dt:.1f} s (whole process, test evaluation included)")
    return rows, dt


def finetune_only(model, out, epochs, calib, val, train, threads=None, teacher=MODEL):
    """Fine-tunes MODEL without folding anything more: compress at tau 1 with
    a layer threshold no node can pass, calibrated on the data MODEL was
    compressed with. (Neurons dead on all of CALIB still go, as removing
    them always shrinks the model; after a compression on the same data
    there are none.) MODEL was compressed from TEACHER (by default the
    Fashion-MNIST original): --teacher makes that the teacher of the
    distillation (without it MODEL would be its own). Returns the report and
    the seconds."""
    rep, dt = lc_report("compress", model, "--data", calib, "--val", val, "--threshold", "1",
                        "--layer-threshold", "1000000", "--finetune", epochs, "--train", train,
                        "--teacher", teacher, "-o", out, threads=threads)
    if rep["params_after"] != rep["params_before"]:
        lib.note("fmnist", f"fine-tuning {os.path.basename(model)} also removed "
                           f"{rep['params_before'] - rep['params_after']} parameters of dead neurons")
    return rep, dt


def targets(base_params, search):
    res = {}
    for r in ("0.75", "0.5", "0.25"):
        out = os.path.join(OUT, f"fm-target-{r}.onnx")
        rep, dt = lc_report("compress", MODEL, "--data", fm("val"), "--val", search,
                            "--target-size", r, "-o", out)
        acc = lib.accuracy(out, TEST_IMAGES)
        ft = os.path.join(OUT, f"fm-target-{r}-ft.onnx")
        frep, fdt = finetune_only(out, ft, CONFIG["fm_finetune_epochs"], fm("val"), search,
                                  CONFIG["fm_train"])
        facc = lib.accuracy(ft, TEST_IMAGES)
        res[r] = {"params": rep["params_after"], "size_ratio": rep["params_after"] / base_params,
                  "test_acc": acc, "test_acc_finetuned": facc, "params_finetuned": frep["params_after"],
                  "val_acc": rep["accuracy_after"], "method": rep.get("method"),
                  "thresholds": rep.get("thresholds"),
                  "paper_global_tau": (rep.get("budget") or {}).get("paper"),
                  "finetune_kept": (frep.get("finetune") or {}).get("kept"),
                  "search_seconds": dt, "finetune_seconds": fdt}
        say(f"  target {r}: {rep['params_after']} params ({rep['params_after'] / base_params:.3f}), "
            f"test {acc:.4f}, fine-tuned {facc:.4f}  ({dt:.0f} s search, {fdt:.0f} s fine-tune)")
    return res


def prune_quantile(target, epochs):
    """Per-epoch removal share that reaches TARGET within EPOCHS - 1 pruning
    epochs (parameters shrink about with the square of the kept neurons),
    so the last epoch trains the pruned model; lincomp stops at the budget."""
    steps = max(epochs - 1, 1)
    keep = 0.9 * math.sqrt(target)
    # many epochs (small data sets) make the share tiny: keep it above 0,
    # which `lincomp prune` refuses
    return max(0.0005, round(min(0.9, 1 - keep ** (1 / steps)), 4))


def prune(model, target, epochs, out, train_data, val, optimizer=("sgd", "0.005")):
    q = prune_quantile(target, epochs)
    rep, dt = lc_report("prune", model, "--train", train_data, "--val", val, "--target-size", target,
                        "--epochs", epochs, "--quantile", q, "--optimizer", optimizer[0],
                        "--lr", optimizer[1], "-o", out)
    return rep, dt, q


def combined(base_params, base_acc, search):
    """The paper's combination: importance pruning to 60 %, then linearity
    compression (exact at tau 1, and the smallest within 0.5 pp on val)."""
    pruned = os.path.join(OUT, "fm-pruned60.onnx")
    rep, dt, q = prune(MODEL, 0.6, CONFIG["fm_prune_epochs"], pruned, CONFIG["fm_train"], search)
    pacc = lib.accuracy(pruned, TEST_IMAGES)
    out = {"prune": {"params": rep["params_after"], "size_ratio": rep["params_after"] / base_params,
                     "test_acc": pacc, "epochs": CONFIG["fm_prune_epochs"], "quantile": q,
                     "target_reached": rep["target_reached"], "seconds": dt}}
    say(f"  pruned to {rep['params_after'] / base_params:.3f}: test {pacc:.4f} ({dt:.0f} s)")
    for name, args in (("linearity_exact", ["--threshold", "1"]),
                       ("linearity_max_drop_0.5pp", ["--max-drop", "0.5", "--val", search])):
        o = os.path.join(OUT, f"fm-pruned60-{name}.onnx")
        crep, cdt = lc_report("compress", pruned, "--data", fm("val"), *args, "-o", o)
        acc = lib.accuracy(o, TEST_IMAGES)
        out[name] = {"params": crep["params_after"], "size_ratio": crep["params_after"] / base_params,
                     "ratio_of_pruned": crep["params_after"] / rep["params_after"],
                     "test_acc": acc, "seconds": cdt}
        say(f"  then {name}: {crep['params_after'] / base_params:.3f} of the original, test {acc:.4f}")
    final = out["linearity_max_drop_0.5pp"]
    out["prune"]["model"] = pruned
    out["summary"] = {
        "pruning_removed": 1 - out["prune"]["size_ratio"],
        "linearity_removed": out["prune"]["size_ratio"] - final["size_ratio"],
        "final_size_ratio": final["size_ratio"],
        "test_acc_change_pruning_pp": 100 * (pacc - base_acc),
        "test_acc_change_linearity_pp": 100 * (final["test_acc"] - pacc)}
    return out


def finetune_target(model, out, epochs, search, target):
    """finetune_only with --finetune-target TARGET (distill | labels); distill
    is towards the original (--teacher)."""
    teacher = ["--teacher", MODEL] if target == "distill" else []
    rep, dt = lc_report("compress", model, "--data", fm("val"), "--val", search, "--threshold", "1",
                        "--layer-threshold", "1000000", "--finetune", epochs, "--train",
                        CONFIG["fm_train"], "--finetune-target", target, *teacher, "-o", out)
    f = rep.get("finetune") or {}
    FT_RUNS[out] = {"runs": f.get("runs", 1), "lr": f.get("lr")}
    return lib.accuracy(out, TEST_IMAGES), dt


# fine-tuning runs and learning rate of each finetune_target output: with
# --val, compress backs off once to a tenth of the default rate when a run
# does not beat the folded model (docs/budgets.md); the rate is annealed
# over the second half of the steps (--anneal, default 0.5)
FT_RUNS = {}


def reconstruct_and_joint(base_params, base_acc, search, pruned):
    """Issue 13: training-free compression at 25 % and 10 % (least-squares
    reconstruction in the budget search, the default), then <= 2 epochs of
    distillation and, for comparison, of label fine-tuning; the joint plan
    (--joint: pruning and folding chosen together, training-free); and the
    paper's two-step combination at the same final size: importance pruning
    to 60 % (lincomp prune, with training) then compress to the budget.
    Returns (reconstruct, joint) keyed by target."""
    ep = CONFIG["fm_finetune_epochs"]
    rec, joint = {}, {}
    for r in ("0.25", "0.10"):
        out = os.path.join(OUT, f"fm-recon-{r}.onnx")
        rep, dt = lc_report("compress", MODEL, "--data", fm("val"), "--val", search,
                            "--target-size", r, "-o", out)
        a = lib.accuracy(out, TEST_IMAGES)
        da, ddt = finetune_target(out, os.path.join(OUT, f"fm-recon-{r}-distill.onnx"), ep, search,
                                  "distill")
        la, ldt = finetune_target(out, os.path.join(OUT, f"fm-recon-{r}-labels.onnx"), ep, search,
                                  "labels")
        rec[r] = {"params": rep["params_after"], "size_ratio": rep["params_after"] / base_params,
                  "test_acc": a, "test_acc_finetuned": da, "test_acc_finetuned_labels": la,
                  "finetune_epochs": ep, "method": rep.get("method"), "seconds": dt,
                  "finetune_seconds": ddt, "finetune_labels_seconds": ldt,
                  "finetune_runs": FT_RUNS[os.path.join(OUT, f"fm-recon-{r}-distill.onnx")]["runs"],
                  "finetune_lr": FT_RUNS[os.path.join(OUT, f"fm-recon-{r}-distill.onnx")]["lr"]}
        say(f"  reconstruct {r}: size {rec[r]['size_ratio']:.3f}, test {a:.4f}; {ep} epochs distilled "
            f"{da:.4f}, labels {la:.4f}  ({dt:.0f} s search)")
        jo = os.path.join(OUT, f"fm-joint-{r}.onnx")
        jrep, jdt = lc_report("compress", MODEL, "--data", fm("val"), "--val", search,
                              "--target-size", r, "--joint", "-o", jo)
        ja = lib.accuracy(jo, TEST_IMAGES)
        jda, jddt = finetune_target(jo, os.path.join(OUT, f"fm-joint-{r}-distill.onnx"), ep, search,
                                    "distill")
        b = jrep.get("budget") or {}
        joint[r] = {"params": jrep["params_after"], "size_ratio": jrep["params_after"] / base_params,
                    "test_acc": ja, "test_acc_finetuned": jda, "method": jrep.get("method"),
                    "pruned": b.get("pruned"), "joint_candidate": b.get("joint"),
                    "layers": [{k: l.get(k) for k in ("name", "folded_linear", "removed_constant", "pruned")}
                               for l in jrep.get("layers", [])],
                    "seconds": jdt, "finetune_seconds": jddt}
        say(f"  joint {r}: size {joint[r]['size_ratio']:.3f}, method {jrep.get('method')}, pruned "
            f"{b.get('pruned')}, test {ja:.4f}; distilled {jda:.4f}  ({jdt:.0f} s)")
        if pruned and os.path.exists(pruned["model"]):
            # the paper's order: prune (trained), then compress to the same final size
            rel = float(r) * base_params / pruned["params"]
            if rel < 1:
                to = os.path.join(OUT, f"fm-twostep-{r}.onnx")
                trep, tdt = lc_report("compress", pruned["model"], "--data", fm("val"), "--val", search,
                                      "--target-size", f"{rel:.6f}", "-o", to)
                ta = lib.accuracy(to, TEST_IMAGES)
                joint[r]["two_step"] = {"params": trep["params_after"],
                                        "size_ratio": trep["params_after"] / base_params,
                                        "test_acc": ta, "prune_epochs": pruned["epochs"],
                                        "seconds": tdt + pruned["seconds"]}
                say(f"  two-step {r} (prune to 60 % then compress): size "
                    f"{trep['params_after'] / base_params:.3f}, test {ta:.4f}")
    return rec, joint


def run_train():
    res = train()
    lib.save("fmnist-train", res)
    return res


def run():
    base = lib.load("fmnist-train")
    if not base or not os.path.exists(MODEL):
        raise lib.Failed("no trained model: the fmnist-train section did not run")
    search = write_search_split()
    res = {"params": base["params"], "test_acc": base["test_acc"], "train": base,
           "calibration": "validation split (10,000 images)",
           "search_val_samples": CONFIG["fm_search_val"],
           "finetune_epochs": CONFIG["fm_finetune_epochs"]}
    for name, fn in (("sweep", lambda: sweep()),
                     ("target", lambda: targets(base["params"], search)),
                     ("combined", lambda: combined(base["params"], base["test_acc"], search))):
        try:
            v = fn()
            if name == "sweep":
                res["sweep"], res["sweep_seconds"] = v
            else:
                res[name] = v
        except lib.Failed as e:
            lib.note("fmnist", f"{name} failed: {e}")
    try:
        c = res.get("combined") or {}
        pr = dict(c["prune"], model=c["prune"]["model"]) if c.get("prune") else None
        res["reconstruct"], res["joint"] = reconstruct_and_joint(base["params"], base["test_acc"],
                                                                 search, pr)
    except lib.Failed as e:
        lib.note("fmnist", f"reconstruct/joint failed: {e}")
    return res
