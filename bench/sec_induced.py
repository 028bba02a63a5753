"""sec_induced.py - linearity-inducing fine-tuning against the paper's
method (with fine-tuning) and importance pruning at equal parameter budgets
(issue 9's comparison), on Fashion-MNIST and the tabular suite.

For each budget R in CONFIG["induce_sizes"]:
  induced    `lincomp induce MODEL --target-size R` (or `compress --induce`):
             induction epochs + fine-tuning epochs, as the command ran them;
  paper+ft   `compress --target-size R`, then the same number of epochs of
             fine-tuning;
  pruning    `lincomp prune --target-size R` from the trained model with the
             same number of epochs.
Fashion-MNIST gets 1 induction + 1 fine-tuning epoch (CONFIG
"fm_induce_epochs" in total) to fit the time budget; the tabular sets get
CONFIG["tab_induce_epochs"] induction epochs and the command's own minimum
number of steps, and the baselines then get as many epochs as it used.
"""
import concurrent.futures as cf
import os

import lib
from lib import CONFIG, OUT, TEST_IMAGES, fm, say
import sec_fmnist
from sec_tabular import TAB, names, split


def induce_cmd():
    """The argv prefix of the induce command, or None when lincomp has none."""
    if lib.has_command("induce"):
        return ["induce"]
    if lib.help_has("compress", "--induce"):
        return ["compress", "--induce"]
    return None


def induce(cmd, model, r, train, val, test, out, extra, threads=None):
    args = [cmd[0], model, *cmd[1:], "--target-size", r, "--train", train, "--val", val,
            "--test", test, *extra, "-o", out]
    rep, dt = lib.lc_report(*args, threads=threads)
    sch = rep.get("schedule", {})
    epochs = int(sch.get("epochs", 0)) + int(sch.get("finetune_epochs", 0))
    return {"size_ratio": rep["size_ratio"], "params": rep["params_after"],
            "test_acc": lib.accuracy(out, test, threads=threads), "target_reached": rep.get("target_reached"),
            "epochs": epochs, "seconds": dt}


def paper_ft(model, r, calib, val, train, test, out, epochs, threads=None):
    rep, _ = lib.lc_report("compress", model, "--data", calib, "--val", val, "--target-size", r,
                           "-o", out, threads=threads)
    ft = out.replace(".onnx", "-ft.onnx")
    sec_fmnist.finetune_only(out, ft, epochs, calib, val, train, threads=threads, teacher=model)
    return {"size_ratio": rep["size_ratio"], "params": rep["params_after"],
            "test_acc": lib.accuracy(out, test, threads=threads),
            "test_acc_finetuned": lib.accuracy(ft, test, threads=threads), "epochs": epochs}


def pruning(model, r, train, val, test, out, epochs, optimizer, threads=None):
    q = sec_fmnist.prune_quantile(float(r), epochs)
    rep, _ = lib.lc_report("prune", model, "--train", train, "--val", val, "--target-size", r,
                           "--epochs", epochs, "--quantile", q, "--optimizer", optimizer[0],
                           "--lr", optimizer[1], "-o", out, threads=threads)
    return {"size_ratio": rep["size_ratio"], "params": rep["params_after"],
            "test_acc": lib.accuracy(out, test, threads=threads), "target_reached": rep["target_reached"],
            "epochs": epochs, "quantile": q}


def fmnist(cmd, sizes, rows):
    """Runs the budgets SIZES (strings) into ROWS, while the time budget lasts."""
    base = lib.load("fmnist-train")
    model = sec_fmnist.MODEL
    search = sec_fmnist.write_search_split()
    train = CONFIG["fm_train"]
    total = CONFIG["fm_induce_epochs"]
    ind_epochs = max(1, total - 1)
    earlier = (lib.load("fmnist") or {}).get("target", {})
    per_epoch = base["train_seconds"] / max(base["epochs_run"], 1)
    for r in sizes:
        reuse = r in earlier and CONFIG["fm_finetune_epochs"] == total
        # induction + pruning (+ fine-tuning and a budget search for the
        # paper's method when the target section has not done it)
        need = per_epoch * 1.1 * total * (2 if reuse else 3) + (30 if reuse else 150)
        if lib.remaining() < need:
            lib.note("induced", f"fmnist budget {r} skipped: {lib.remaining():.0f} s left of the run's "
                                f"time budget, about {need:.0f} s needed")
            continue
        row = {}
        try:
            row["induced"] = induce(cmd, model, r, train, search, TEST_IMAGES,
                                    os.path.join(OUT, f"fm-induced-{r}.onnx"),
                                    ["--epochs", ind_epochs, "--finetune-epochs", total - ind_epochs,
                                     "--min-steps", 1])
        except lib.Failed as e:
            lib.note("induced", f"fmnist induce {r} failed: {e}")
        e = row.get("induced", {}).get("epochs") or total
        if r in earlier and CONFIG["fm_finetune_epochs"] == e:  # same run as the target section
            t = earlier[r]
            row["paper_finetuned"] = {"size_ratio": t["size_ratio"], "params": t["params"],
                                      "test_acc": t["test_acc"], "test_acc_finetuned": t["test_acc_finetuned"],
                                      "epochs": e}
        else:
            try:
                row["paper_finetuned"] = paper_ft(model, r, fm("val"), search, train, TEST_IMAGES,
                                                  os.path.join(OUT, f"fm-paper-{r}.onnx"), e)
            except lib.Failed as x:
                lib.note("induced", f"fmnist paper+ft {r} failed: {x}")
        try:
            row["pruning"] = pruning(model, r, train, search, TEST_IMAGES,
                                     os.path.join(OUT, f"fm-prune-{r}.onnx"), e, ("sgd", "0.005"))
        except lib.Failed as x:
            lib.note("induced", f"fmnist pruning {r} failed: {x}")
        rows[r] = row
        say("  fmnist " + summary_line(r, row, base["test_acc"]))


def summary_line(r, row, base):
    parts = [f"{float(r) * 100:3.0f}%:"]
    for k, label in (("induced", "induced"), ("paper_finetuned", "paper+ft"), ("pruning", "pruning")):
        v = row.get(k)
        if v:
            acc = v.get("test_acc_finetuned", v["test_acc"])
            parts.append(f"{label} {acc:.4f} ({v['size_ratio']:.3f})")
    return " ".join(parts) + f"  [original {base:.4f}]"


def tabular_one(cmd, name):
    tr, va, te = split(name)
    model = os.path.join(TAB, f"{name}.onnx")
    rows = {}
    for r in map(str, CONFIG["induce_sizes"]):
        row = {}
        row["induced"] = induce(cmd, model, r, tr, va, te, os.path.join(TAB, f"{name}-ind-{r}.onnx"),
                                ["--epochs", CONFIG["tab_induce_epochs"]], threads=1)
        e = row["induced"]["epochs"] or CONFIG["tab_induce_epochs"]
        row["paper_finetuned"] = paper_ft(model, r, tr, va, tr, te, os.path.join(TAB, f"{name}-pap-{r}.onnx"),
                                          e, threads=1)
        row["pruning"] = pruning(model, r, tr, va, te, os.path.join(TAB, f"{name}-prn-{r}.onnx"), e,
                                 ("adam", "0.001"), threads=1)
        rows[r] = row
    return rows


def tabular(cmd):
    tab = {r["data"]: r for r in (lib.load("tabular") or {}).get("data_sets", [])}
    sets = [n for n in names()[0] if n in tab]
    out = {}
    with cf.ThreadPoolExecutor(max_workers=lib.THREADS) as ex:
        futs = {n: ex.submit(tabular_one, cmd, n) for n in sets}
        for n in sets:
            try:
                out[n] = {"test_acc": tab[n]["test_acc"], "sizes": futs[n].result()}
                for r, row in out[n]["sizes"].items():
                    say(f"  {n:16s} " + summary_line(r, row, tab[n]["test_acc"]))
            except (lib.Failed, KeyError) as e:
                lib.note("induced", f"{n} failed: {e}")
    return out


def run():
    cmd = induce_cmd()
    if not cmd:
        lib.note("induced", "lincomp has no induce command (neither `lincomp induce` nor "
                            "`compress --induce`): the comparison of issue 9 was skipped")
        return {"skipped": True}
    res = {"command": " ".join(cmd)}
    base = lib.load("fmnist-train")
    # Fashion-MNIST's headline budget (25 %) first, then the tabular suite,
    # then the other Fashion-MNIST budgets while the time budget lasts
    sizes = [str(r) for r in CONFIG["induce_sizes"]]
    first = [r for r in sizes if r == "0.25"]
    rows = {}
    if base and not base.get("failed"):
        res["fmnist"] = {"test_acc": base["test_acc"], "sizes": rows}
        fmnist(cmd, first, rows)
    if lib.remaining() > 120:
        res["tabular"] = tabular(cmd)
    else:
        lib.note("induced", f"tabular suite skipped: {lib.remaining():.0f} s left of the run's time budget")
    if base and not base.get("failed"):
        # the other budgets, the goal's side (<= 25 %) first
        fmnist(cmd, sorted((r for r in sizes if r not in first), key=float), rows)
        res["fmnist"]["sizes"] = {r: rows[r] for r in sizes if r in rows}
    return res
