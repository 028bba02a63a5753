"""report.py - merges the sections' results (build/bench/results/*.json)
into bench/results.json and writes bench/RESULTS.md and bench/figures/*.svg.
Everything in those files comes from the measured results; nothing is typed
in by hand.

    /usr/bin/python3 bench/report.py
"""
import json
import os

import figures
import lib

BENCH = os.path.join(lib.ROOT, "bench")
FIG = os.path.join(BENCH, "figures")


def pct(x):
    return "–" if x is None else f"{100 * x:.2f}"


def acc(x):
    return "–" if x is None else f"{x:.4f}"


def num(x, f="{:.3f}"):
    return "–" if x is None else f.format(x)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def headline_induced(ind):
    """fmnist.induced / tabular[i].induced: the 25 % run (else the smallest
    budget) as {size_ratio, test_acc}, with every budget and baseline."""
    sizes = (ind or {}).get("sizes") or {}
    runs = {k: v for k, v in sizes.items() if "induced" in v}
    if not runs:
        return None
    key = "0.25" if "0.25" in runs else min(runs, key=float)
    h = runs[key]["induced"]
    return {"size_ratio": h["size_ratio"], "test_acc": h["test_acc"], "target_size": float(key),
            "sizes": sizes}


def merge():
    names = ("meta", "fmnist-train", "speed", "fmnist", "titanic", "tabular", "proofs", "induced")
    loaded = {s: lib.load(s) for s in names}
    # a failed section keeps only its notes
    sec = {s: (None if (v is None or v.get("failed")) else v) for s, v in loaded.items()}
    res = {"generated": sec["meta"] or {}}
    fm = sec["fmnist"] or ({"params": sec["fmnist-train"]["params"], "test_acc": sec["fmnist-train"]["test_acc"],
                            "train": sec["fmnist-train"]} if sec["fmnist-train"] else None)
    ind = sec["induced"] or {}
    if fm:
        fm = dict(fm)
        fm["induced"] = headline_induced(ind.get("fmnist"))
        res["fmnist"] = fm
    if sec["titanic"]:
        res["titanic"] = sec["titanic"]
    if sec["tabular"]:
        rows = []
        for r in sec["tabular"]["data_sets"]:
            r = dict(r)
            r["induced"] = headline_induced((ind.get("tabular") or {}).get(r["data"]))
            rows.append(r)
        res["tabular"] = rows
        res["tabular_summary"] = sec["tabular"]["summary"]
        res["tabular_recipe"] = sec["tabular"]["recipe"]
        res["tabular_vs_torch"] = sec["tabular"].get("torch")
        res["tabular_torch_models"] = sec["tabular"].get("torch_models")
    if sec["speed"]:
        res["speed"] = sec["speed"]
    if sec["proofs"]:
        res["proofs"] = sec["proofs"]
    if ind.get("skipped"):
        res["induced_skipped"] = True
    res["notes"] = [n for s in loaded.values() if s for n in s.get("notes", [])]
    return res


def md_speed(s):
    out = ["## Speed\n", f"Threads: {s.get('threads')}; model: {s.get('model')}. Ratios are lincomp / "
           "the alternative, measured in the same run (below 1: lincomp is faster). Times are the best of "
           "repeated runs; on a shared machine they can still be noisy.\n"]
    rows = []
    for core, f in (s.get("forward") or {}).items():
        rows.append([f"forward pass, 10,000 images, OpenBLAS kernels {core} ({f['kernels']}), single runs",
                     num(f["forward_seconds"], "{:.4f} s"),
                     num(s.get("ort_first_seconds", s.get("ort_forward_seconds")), "{:.4f} s"),
                     num(f.get("ratio_to_ort"))])
    cli = s.get("cli_kernels", "Haswell")
    if "forward_vs_ort" in s:
        rows.append([f"forward pass ({cli} kernels, as the CLI runs), best of alternating rounds, vs ORT",
                     num(s["forward_seconds"], "{:.4f} s"), num(s["ort_forward_seconds"], "{:.4f} s"),
                     num(s["forward_vs_ort"])])
    if "forward_vs_sgemm" in s:
        rows.append([f"forward pass vs its matrix products as plain SGEMM calls (same process)",
                     num(s["forward_seconds"], "{:.4f} s"), num(s["sgemm_seconds"], "{:.4f} s"),
                     num(s["forward_vs_sgemm"])])
    h = (s.get("forward") or {}).get(cli)
    if h:
        rows.append([f"statistics pass ({h.get('kernels', cli)} kernels, as the CLI runs) vs ORT forward",
                     num(s.get("stats_seconds", h["stats_seconds"]), "{:.4f} s"),
                     num(s.get("ort_forward_seconds"), "{:.4f} s"), num(s.get("stats_vs_ort"))])
    if "eval_process_seconds" in s:
        rows.append(["`lincomp eval` vs node + ORT script, whole processes",
                     num(s["eval_process_seconds"], "{:.3f} s"), num(s["ort_process_seconds"], "{:.3f} s"),
                     num(s["eval_process_vs_ort"])])
    for b, t in (s.get("train_epoch") or {}).items():
        rows.append([f"one training epoch, batch {b}, {t['samples']} images, vs PyTorch CPU",
                     num(t["lincomp_seconds"], "{:.2f} s"), num(t.get("torch_seconds"), "{:.2f} s"),
                     num(t.get("ratio"))])
    out.append(table(["measurement", "lincomp", "alternative", "ratio"], rows))
    out.append(f"\nSweep: 20 plans + folds without evaluation {num(s.get('folds_seconds'), '{:.4f}')} s "
               f"(the authors' prototype: 349 s); a whole `lincomp sweep` process with test evaluation "
               f"{num(s.get('sweep_seconds'), '{:.2f}')} s (goal < 3.5 s). PyTorch runs with the same "
               "OpenBLAS kernels as the lincomp CLI and `torch.set_num_threads` as lincomp.\n")
    c = s.get("compressed")
    if c:
        out.append("### What compression buys: the compressed Fashion-MNIST models against the original\n")
        out.append("Inference time inside the process at batch 10,000 (the test images in one call) and at "
                   "batch 1 (one call per image, the mean); speed-up = the original's time / the model's. "
                   "ONNX Runtime runs in node (onnxruntime-node), whose per-call overhead is part of its "
                   "batch-1 time.\n")
        crow = []
        for name, r in c.items():
            sp = (lambda k: "" if name == "original" else " (" + num(r.get("speedup_" + k), "{:.2f}x") + ")")
            crow.append([name, r["params"], num(r["size_ratio"], "{:.3f}"),
                         num(1e3 * r["lincomp_batch_seconds"], "{:.1f} ms") + sp("lincomp_batch"),
                         num(1e6 * r["lincomp_row_seconds"], "{:.0f} us") + sp("lincomp_row"),
                         num(1e3 * r["ort_batch_seconds"], "{:.1f} ms") + sp("ort_batch") if "ort_batch_seconds" in r else "–",
                         num(1e6 * r["ort_row_seconds"], "{:.0f} us") + sp("ort_row") if "ort_row_seconds" in r else "–",
                         num(1e6 * r["ort_row_1thread_seconds"], "{:.0f} us") + sp("ort_row_1thread")
                         if "ort_row_1thread_seconds" in r else "–"])
        out.append(table(["model", "parameters", "size", "lincomp batch 10,000", "lincomp batch 1",
                          "ORT batch 10,000", "ORT batch 1", "ORT batch 1, 1 thread"], crow))
        if s.get("ort_call_seconds") is not None:
            out.append(f"\nOne ORT call of a model that does almost nothing (a 784 x 10 Gemm) takes "
                       f"{num(1e6 * s['ort_call_seconds'], '{:.1f}')} us at batch 1; net of that cost, which "
                       f"every model pays, the 25 % model is "
                       f"{num(s.get('compressed_speedup_ort_row_net_of_call'), '{:.2f}x')} faster than the "
                       "original at batch 1 (a reading of the goal's figure, not a replacement for it).\n")
        if s.get("compressed_speedup_ort_1thread") is not None:
            o, q = c.get("original", {}), c.get("target 25%", {})

            def gain(r):
                return num(r["ort_row_1thread_seconds"] / r["ort_row_seconds"], "{:.2f}x") \
                    if r.get("ort_row_seconds") and r.get("ort_row_1thread_seconds") else "–"
            out.append(f"The last column runs ORT with one intra-op thread, the other ORT columns with "
                       f"{s.get('threads', '?')}. At batch 1 the second thread makes the original {gain(o)} "
                       f"faster and the 25 % model {gain(q)}: handing a layer to the second thread costs about the "
                       "same whatever its size, so it pays less on small layers. With one thread for both "
                       f"models the 25 % model is {num(s['compressed_speedup_ort_1thread'], '{:.2f}x')} faster "
                       "at the slower of batch 1 and batch 10,000 (not the goal's figure, which is at the "
                       "bench's thread count).\n")
    return "\n".join(out)


def md_proofs(p):
    out = ["## Provable linearity\n", p.get("note", "") + ".\n"]
    rows = []
    for name, r in ([("Fashion-MNIST MLP", p["fmnist"])] if "fmnist" in p else []) + \
            [(r["data"], r) for r in p.get("tabular", [])]:
        s = r["seconds"]
        rows.append([name, r["hidden_neurons"], r["sign_test_linear"] + r["sign_test_dead"],
                     f"{r['interval']} ({s.get('interval', 0):.3f} s)",
                     f"{r['symbolic']} ({s.get('symbolic', 0):.3f} s)",
                     f"{r['lp']} ({s.get('lp', 0):.2f} s)",
                     r["empirical_always_active"] + r["empirical_never_active"]])
    out.append(table(["model", "hidden neurons", "paper's sign test", "interval", "+ symbolic", "+ LP",
                      "empirical (on the data)"], rows))
    return "\n".join(out)


def md_fmnist(fm):
    t = fm.get("train", {})
    out = ["## Fashion-MNIST, the paper's MLP 784-1024-1024-512-512-256-256-10\n",
           f"Trained by lincomp: {t.get('recipe')}; {t.get('epochs_run')} epochs run "
           f"({'early stop' if t.get('early_stopped') else 'epoch cap reached'}), model of epoch "
           f"{t.get('epoch_kept')}, on {t.get('train_samples', '?')} training images; {fm['params']} parameters; validation accuracy {acc(t.get('val_acc'))}, "
           f"**test accuracy {acc(fm['test_acc'])}**. Calibration on the validation split; budget searches "
           f"evaluate on its first {fm.get('search_val_samples', '–')} images; test: the 10,000 test images.\n"]
    if fm.get("sweep"):
        out.append(f"### Threshold sweep ({num(fm.get('sweep_seconds'), '{:.1f}')} s)\n")
        out.append("![sweep](figures/fmnist_sweep.svg)\n")
        out.append(table(["tau", "params", "size", "dense", "skip", "test accuracy"],
                         [[f"{r['threshold']:.2f}", r["params"], pct(r["params"] / fm["params"]) + " %",
                           r["dense_params"], r["skip_params"], acc(r["test_acc"])] for r in fm["sweep"]]))
    if fm.get("target"):
        out.append(f"\n### Target sizes (fine-tuning: {fm.get('finetune_epochs')} epochs)\n")
        out.append(table(["target", "params", "size", "test accuracy", "fine-tuned", "change (pp)",
                          "fine-tuned change (pp)"],
                         [[f"{float(k) * 100:g} %", v["params"], pct(v["size_ratio"]) + " %", acc(v["test_acc"]),
                           acc(v["test_acc_finetuned"]), f"{100 * (v['test_acc'] - fm['test_acc']):+.2f}",
                           f"{100 * (v['test_acc_finetuned'] - fm['test_acc']):+.2f}"]
                          for k, v in sorted(fm["target"].items(), key=lambda kv: -float(kv[0]))]))
    c = fm.get("combined")
    if c:
        out.append("\n### Importance pruning to 60 %, then linearity compression\n")
        rows = [["original", fm["params"], "100.00 %", acc(fm["test_acc"])],
                [f"pruned ({c['prune']['epochs']} epochs, quantile {c['prune']['quantile']})",
                 c["prune"]["params"], pct(c["prune"]["size_ratio"]) + " %", acc(c["prune"]["test_acc"])]]
        for k, label in (("linearity_exact", "then linearity, tau = 1 (exact on the calibration data)"),
                         ("linearity_max_drop_0.5pp", "then linearity, smallest within 0.5 pp on validation")):
            if k in c:
                rows.append([label, c[k]["params"], pct(c[k]["size_ratio"]) + " %", acc(c[k]["test_acc"])])
        out.append(table(["model", "params", "size", "test accuracy"], rows))
        s = c.get("summary")
        if s:
            out.append(f"\nPruning removed {pct(s['pruning_removed'])} % of the parameters "
                       f"({s['test_acc_change_pruning_pp']:+.2f} pp test accuracy); linearity compression "
                       f"then removed another {pct(s['linearity_removed'])} % of the original "
                       f"({s['test_acc_change_linearity_pp']:+.2f} pp), to {pct(s['final_size_ratio'])} % in all.\n")
    out.extend(md_joint(fm))
    return "\n".join(out)


def joint_reading(fm):
    """Generated: per budget, which wins without training and with it."""
    parts = []
    for k in sorted(fm.get("joint") or {}, key=lambda x: -float(x)):
        j, r = fm["joint"][k], (fm.get("reconstruct") or {}).get(k)
        free = {"reconstructed fold": r and r["test_acc"], "joint plan": j["test_acc"]}
        trained = {"reconstructed fold + distillation": r and r["test_acc_finetuned"],
                   "reconstructed fold + label fine-tuning": r and r.get("test_acc_finetuned_labels"),
                   "joint plan + distillation": j.get("test_acc_finetuned"),
                   "two-step (pruning with training, then fold)": (j.get("two_step") or {}).get("test_acc")}
        free = {a: v for a, v in free.items() if v is not None}
        trained = {a: v for a, v in trained.items() if v is not None}
        if not free:
            continue
        bf = max(free, key=free.get)
        other = min(free, key=free.get)
        if len(free) > 1 and free[bf] == free[other]:
            s = f"at {float(k) * 100:g} % without training the {' and the '.join(free)} tie ({acc(free[bf])})"
        else:
            s = f"at {float(k) * 100:g} % without training the {bf} wins ({acc(free[bf])}"
            if len(free) > 1:
                s += f", {100 * (free[bf] - free[other]):+.2f} pp over the {other}"
            s += ")"
        if trained:
            bt = max(trained, key=trained.get)
            s += f"; with training the {bt} wins ({acc(trained[bt])}, " \
                 f"{100 * (trained[bt] - fm['test_acc']):+.2f} pp against the original)"
        parts.append(s)
    return "Reading (computed from the table): " + "; ".join(parts) + "." if parts else ""


def md_joint(fm):
    rec, jo = fm.get("reconstruct") or {}, fm.get("joint") or {}
    if not rec and not jo:
        return []
    ep = next((v.get("finetune_epochs") for v in rec.values()), fm.get("finetune_epochs"))
    out = [f"\n### Reconstruction, distillation and the joint plan (issue 13; fine-tuning: {ep} epochs)\n",
           "Training-free rows: `compress --target-size R` (least-squares reconstruction, the default) "
           "and `--joint` (pruning by activation rate and folding chosen together). Fine-tuned: "
           "distillation towards the original (`--finetune-target distill`, the default) against "
           "label fine-tuning. Two-step: the paper's combination at the same final size, importance "
           "pruning to 60 % (`lincomp prune`, with training) then `compress --target-size`.\n"]
    rows = []
    for k in sorted(set(rec) | set(jo), key=lambda x: -float(x)):
        r, j = rec.get(k), jo.get(k)
        d = lambda a: f"{100 * (a - fm['test_acc']):+.2f}" if a is not None else "–"
        if r:
            rows.append([f"{float(k) * 100:g} %", "reconstructed fold", pct(r["size_ratio"]) + " %",
                         acc(r["test_acc"]), d(r["test_acc"]), acc(r["test_acc_finetuned"]),
                         acc(r.get("test_acc_finetuned_labels")), num(r["seconds"], "{:.0f}")])
        if j:
            rows.append([f"{float(k) * 100:g} %", f"joint plan ({j.get('method')}, {j.get('pruned')} pruned)",
                         pct(j["size_ratio"]) + " %", acc(j["test_acc"]), d(j["test_acc"]),
                         acc(j.get("test_acc_finetuned")), "–", num(j["seconds"], "{:.0f}")])
            t = j.get("two_step")
            if t:
                rows.append([f"{float(k) * 100:g} %", f"two-step: prune ({t['prune_epochs']} ep.) then fold",
                             pct(t["size_ratio"]) + " %", acc(t["test_acc"]), d(t["test_acc"]), "–", "–",
                             num(t["seconds"], "{:.0f}")])
    out.append(table(["budget", "method", "size", "test accuracy", "change (pp)", "distilled",
                      "label fine-tuned", "seconds"], rows))
    rd = joint_reading(fm)
    if rd:
        out.append("\n" + rd + "\n")
    return out


NAMES = {"induced": "induced linearity", "paper_finetuned": "the paper's method with fine-tuning",
         "pruning": "importance pruning"}


def induced_reading(fm, ind):
    """One generated sentence per budget: the best method and induced's gap."""
    parts = []
    for k in sorted(ind, key=lambda x: -float(x)):
        got = {m: v.get("test_acc_finetuned", v["test_acc"]) for m, v in ind[k].items()
               if m in NAMES and v}
        if not got:
            continue
        best = max(got, key=got.get)
        gap = "" if "induced" not in got or best == "induced" else \
            f", induced {100 * (got[best] - got['induced']):.2f} pp behind"
        parts.append(f"at {float(k) * 100:g} % {NAMES[best]} is best ({acc(got[best])}, "
                     f"{100 * (got[best] - fm['test_acc']):+.2f} pp against the original{gap})")
    return "Reading (computed from the table): " + "; ".join(parts) + "."


def md_induced(res):
    fm, rows = res.get("fmnist") or {}, res.get("tabular") or []
    out = ["## Induced linearity against the paper's method and importance pruning (equal size)\n",
           "![methods](figures/fmnist_methods.svg)\n"]
    ind = (fm.get("induced") or {}).get("sizes") or {}
    if ind:
        trs = []
        for k in sorted(ind, key=lambda x: -float(x)):
            row = [f"{float(k) * 100:g} %"]
            for m in ("induced", "paper_finetuned", "pruning"):
                v = ind[k].get(m)
                a = None if not v else v.get("test_acc_finetuned", v["test_acc"])
                row.append("–" if not v else f"{acc(a)} ({pct(v['size_ratio'])} %, {v['epochs']} ep.)")
            trs.append(row)
        out.append(f"Fashion-MNIST (original {acc(fm['test_acc'])}): test accuracy (size reached, epochs)\n")
        out.append(table(["budget", "induced", "paper + fine-tuning", "importance pruning"], trs))
        out.append("\n" + induced_reading(fm, ind) + "\n")
    tab = {r["data"]: r["induced"] for r in rows if r.get("induced")}
    if tab:
        out.append("\n![tabular methods](figures/tabular_methods.svg)\n")
        sizes = sorted({s for d in tab.values() for s in d["sizes"]}, key=lambda x: -float(x))
        trs = []
        base = {r["data"]: r["test_acc"] for r in rows}
        for s in sizes:
            row = [f"{float(s) * 100:g} %"]
            for m in ("induced", "paper_finetuned", "pruning"):
                d = [100 * (v["sizes"][s][m].get("test_acc_finetuned", v["sizes"][s][m]["test_acc"]) - base[n])
                     for n, v in tab.items() if m in v["sizes"].get(s, {})]
                w = sum(1 for x in d if x >= -1.0)
                row.append(f"{sum(d) / len(d):+.2f} pp, {w}/{len(d)} within 1 pp" if d else "–")
            trs.append(row)
        out.append(f"Tabular suite ({len(tab)} data sets): mean test accuracy change, and data sets within 1 pp\n")
        out.append(table(["budget", "induced", "paper + fine-tuning", "importance pruning"], trs))
    return "\n".join(out)


def md_titanic(t):
    out = ["## Titanic, the paper's architecture\n",
           f"{t['architecture']} ({t['recipe']}); {t['params']} parameters, test accuracy {acc(t['test_acc'])} "
           f"on {t['test_samples']} passengers.\n", "![titanic sweep](figures/titanic_sweep.svg)\n"]
    rows = [["tau = 1 (exact on the training data)", pct(t["exact"]["size_ratio"]) + " %", acc(t["exact"]["test_acc"])]]
    for k in ("0.75", "0.5", "0.25"):
        v = t["target"][k]
        rows.append([f"target {float(k) * 100:g} %", pct(v["size_ratio"]) + " %", acc(v["test_acc"])])
    rows.append(["smallest within 0.5 pp (validation)", pct(t["max_drop_0.5pp"]["size_ratio"]) + " %",
                 acc(t["max_drop_0.5pp"]["test_acc"])])
    out.append(table(["compression", "size", "test accuracy"], rows))
    return "\n".join(out)


def md_tabular(res):
    rows, s = res["tabular"], res["tabular_summary"]
    out = ["## Tabular suite (../shared/data)\n", res.get("tabular_recipe", "") + ".\n",
           f"**{s['within_0.5pp_at_25pct_test']} of {s['data_sets']} data sets "
           f"({100 * (s['share_within_0.5pp_at_25pct_test'] or 0):.0f} %) stay within 0.5 pp of the original "
           f"test accuracy at 25 % of the size** (on validation: {s['within_0.5pp_at_25pct_val']}); "
           f"the median smallest size within 0.5 pp on validation is {pct(s['median_size_ratio_max_drop_0.5pp'])} %."
           + (f" At 25 %, the paper's fold (`--no-reconstruct`) stays within 0.5 pp on "
              f"{s['within_0.5pp_at_25pct_test_no_reconstruct']}, the joint plan (`--joint`) on "
              f"{s['within_0.5pp_at_25pct_test_joint']}." if "within_0.5pp_at_25pct_test_joint" in s else "")
           + "\n",
           "![tabular box plot](figures/tabular_boxplot.svg)\n"]
    trs = []
    for r in rows:
        md = r["max_drop_0.5pp"]
        trs.append([r["data"], r["rows"], r["params"], acc(r["test_acc"]), pct(r["exact"]["size_ratio"]) + " %",
                    acc(r["target"]["0.75"]["test_acc"]), acc(r["target"]["0.5"]["test_acc"]),
                    acc(r["target"]["0.25"]["test_acc"]),
                    acc((r.get("target_joint") or {}).get("0.25", {}).get("test_acc")),
                    pct(md["size_ratio"]) + " %", acc(md["test_acc"])])
    out.append(table(["data", "rows", "params", "test acc", "size at tau 1", "75 %", "50 %", "25 %",
                      "25 % joint", "size within 0.5 pp", "its test acc"], trs))
    t = res.get("tabular_vs_torch")
    if t:
        out.append(f"\n### lincomp against PyTorch, same recipe, split and preprocessing\n\n"
                   f"Mean test accuracy over {t.get('seeds', 1)} seed(s) on each side. "
                   f"{t['within_1pp']} of {t['data_sets']} data sets within 1 pp; mean difference "
                   f"{t['mean_diff_pp']:+.2f} pp. One test sample of a small data set is several pp; the "
                   "seed-to-seed standard deviation shows how much a single run moves.\n")
        out.append(table(["data", "test samples", "lincomp", "PyTorch", "difference (pp)", "sd lincomp (pp)",
                          "sd PyTorch (pp)"],
                         [[c["data"], c["test_samples"], acc(c["lincomp_test_acc"]), acc(c["torch_test_acc"]),
                           f"{c['diff_pp']:+.2f}", f"{c.get('lincomp_sd_pp', 0):.2f}", f"{c.get('torch_sd_pp', 0):.2f}"]
                          for c in t["per_data_set"]]))
    tm = res.get("tabular_torch_models")
    if tm and tm.get("data_sets"):
        out.append(f"\n### PyTorch-trained models, compressed by lincomp\n\n"
                   "The first seed's PyTorch model of the comparison above, exported by "
                   "`torch.onnx.export` (opset 13) with its preprocessed splits, compressed with "
                   "`compress --target-size 0.25 --data train --val val` as the suite's own models are: "
                   f"**{tm['within_0.5pp_at_25pct_test']} of {tm['data_sets']}** within 0.5 pp of the "
                   f"PyTorch model's test accuracy ({tm['within_0.5pp_at_25pct_test_val_only']} when the "
                   "search scores `--val` alone, `--search-rows 0`).\n")
        out.append(table(["data", "test samples", "PyTorch model", "25 %", "its size",
                          "25 %, --val alone", "its size"],
                         [[r["data"], r["test_samples"], acc(r["test_acc"]),
                           acc(r["target_0.25"]["test_acc"]), pct(r["target_0.25"]["size_ratio"]) + " %",
                           acc(r["target_0.25_val_only"]["test_acc"]),
                           pct(r["target_0.25_val_only"]["size_ratio"]) + " %"]
                          for r in tm["per_data_set"]]))
    return "\n".join(out)


def goals(res):
    """The issues' stated goals against this run's numbers: (goal, measured, met)."""
    out = []
    sp = res.get("speed") or {}

    def add(goal, value, fmt, met):
        if value is not None:
            out.append([goal, fmt.format(value), "yes" if met(value) else "**no**"])
    add("forward pass vs ONNX Runtime <= 1.0 (issues 2, 14)", sp.get("forward_vs_ort"), "{:.3f}", lambda v: v <= 1)
    add("forward pass vs its layers' plain SGEMM time <= 1.15 (issue 14)", sp.get("forward_vs_sgemm"), "{:.3f}",
        lambda v: v <= 1.15)
    add("25 % Fashion-MNIST model >= 3x faster than the original in ORT, batch 1 and 10,000 (issue 14)",
        sp.get("compressed_speedup_ort"), "{:.2f}x", lambda v: v >= 3)
    add("`lincomp eval` vs ORT script, whole processes <= 1.0 (issue 2)", sp.get("eval_process_vs_ort"),
        "{:.3f}", lambda v: v <= 1)
    add("statistics pass vs ORT forward <= 1.0 (issue 3)", sp.get("stats_vs_ort"), "{:.3f}", lambda v: v <= 1)
    add("20 plans + folds < 0.35 s (issue 3)", sp.get("folds_seconds"), "{:.3f} s", lambda v: v < 0.35)
    add("whole sweep with test evaluation < 3.5 s (issue 3)", sp.get("sweep_seconds"), "{:.2f} s",
        lambda v: v < 3.5)
    add("training epoch vs PyTorch, batch 32, <= 1.0 (issue 4)", sp.get("train_epoch_vs_torch"), "{:.3f}",
        lambda v: v <= 1)
    add("training epoch vs PyTorch, batch 256, <= 1.0 (issue 4)", sp.get("train_epoch_vs_torch_b256"), "{:.3f}",
        lambda v: v <= 1)
    t = res.get("tabular_vs_torch")
    if t:
        add("test accuracy within 1 pp of PyTorch on >= 5 data sets (issue 4)", t["within_1pp"],
            "{} of " + str(t["data_sets"]) + " data sets", lambda v: v >= 5)
    s = res.get("tabular_summary")
    if s and s["data_sets"]:
        add("majority of data sets within 0.5 pp at 25 % of the size (the paper's claim)",
            s["share_within_0.5pp_at_25pct_test"], "{:.0%}", lambda v: v > 0.5)
    if s and s["data_sets"]:
        add("tabular: >= 17 of 20 data sets within 0.5 pp at 25 % without training (issue 13)",
            s["within_0.5pp_at_25pct_test"], "{} of " + str(s["data_sets"]) + " data sets", lambda v: v >= 17)
        if s.get("within_0.5pp_at_25pct_test_joint") is not None:
            add("the same with `--joint` (issue 13)", s["within_0.5pp_at_25pct_test_joint"],
                "{} of " + str(s["data_sets"]) + " data sets", lambda v: v >= 17)
        if s.get("max_drop_0.5pp_kept_on_test") is not None:
            add("`--max-drop 0.5` kept on test on >= 18 of 20 data sets (issue 13)",
                s["max_drop_0.5pp_kept_on_test"], "{} of " + str(s["data_sets"]) + " data sets",
                lambda v: v >= 18)
    t25 = ((res.get("fmnist") or {}).get("target") or {}).get("0.25") or {}
    add("Fashion-MNIST `compress --target-size 0.25`, 10,000 calibration images, reconstruction on, "
        "<= 10 s (issue 14)", t25.get("search_seconds"), "{:.1f} s", lambda v: v <= 10)
    fi = (res.get("fmnist") or {}).get("induced")
    if fi:
        d = 100 * (fi["test_acc"] - res["fmnist"]["test_acc"])
        out.append([f"Fashion-MNIST induced at <= 25 % within 1 pp of the original (issue 9)",
                    f"{d:+.2f} pp at {pct(fi['size_ratio'])} %",
                    "yes" if d >= -1 and fi["size_ratio"] <= 0.25 else "**no**"])
    rec = (res.get("fmnist") or {}).get("reconstruct") or {}
    base = (res.get("fmnist") or {}).get("test_acc")
    for key, field, lim, what in (("0.25", "test_acc", 1.0, "without training"),
                                  ("0.25", "test_acc_finetuned", 0.3, "with <= 2 epochs of distillation"),
                                  ("0.10", "test_acc_finetuned", 1.0, "with <= 2 epochs of distillation")):
        v = rec.get(key)
        if v and v.get(field) is not None and base is not None:
            d = 100 * (v[field] - base)
            how = ""
            if field == "test_acc_finetuned" and v.get("finetune_runs", 1) > 1:
                how = (f" (the run kept: lr {v['finetune_lr']:g}, after a first run of "
                       f"{v.get('finetune_epochs')} epochs at 10x that rate did not beat the folded model)")
            out.append([f"Fashion-MNIST at <= {float(key) * 100:g} % within {lim:g} pp {what} (issue 13)",
                        f"{d:+.2f} pp at {pct(v['size_ratio'])} %{how}",
                        "yes" if d >= -lim and v["size_ratio"] <= float(key) else "**no**"])
    tab = [r for r in res.get("tabular", []) if r.get("induced") and r["induced"]["target_size"] == 0.25]
    if tab:
        w = sum(1 for r in tab if 100 * (r["induced"]["test_acc"] - r["test_acc"]) >= -1)
        out.append(["tabular induced at 25 % within 1 pp (issue 9)", f"{w} of {len(tab)} data sets",
                    "yes" if w == len(tab) else "**no**"])
    return out


def markdown(res):
    g = res.get("generated", {})
    out = ["# lincomp benchmark results\n",
           f"Generated by `{g.get('command', 'make bench')}` on {g.get('date', '?')} "
           f"({g.get('mode', '?')} run, {g.get('total_seconds', 0) / 60:.1f} minutes) on {g.get('cpu', '?')}, "
           f"{g.get('threads')} threads. Every number and figure below is written by `bench/report.py` from "
           "`bench/results.json`; nothing is typed by hand.\n"]
    if g.get("sections"):
        out.append(table(["section", "seconds", "planned"],
                         [[k, f"{v['seconds']:.0f}", f"{v['planned']:.0f}"] for k, v in g["sections"].items()]))
    g_rows = goals(res)
    if g_rows:
        out.append("## Goals of the issues, as measured in this run\n")
        out.append(table(["goal", "measured", "met"], g_rows))
    if "speed" in res:
        out.append(md_speed(res["speed"]))
    if "proofs" in res:
        out.append(md_proofs(res["proofs"]))
    if "fmnist" in res:
        out.append(md_fmnist(res["fmnist"]))
    if "fmnist" in res and (res["fmnist"].get("induced") or any(r.get("induced") for r in res.get("tabular", []))):
        out.append(md_induced(res))
    if "titanic" in res:
        out.append(md_titanic(res["titanic"]))
    if "tabular" in res:
        out.append(md_tabular(res))
    if res.get("notes"):
        out.append("## Notes\n\n" + "\n".join(f"- {n['section']}: {n['note']}" for n in res["notes"]) + "\n")
    return "\n".join(out)


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    res = merge()
    os.makedirs(FIG, exist_ok=True)
    if "tabular" in res and res["tabular"]:
        write(os.path.join(FIG, "tabular_boxplot.svg"), figures.tabular_boxplot(res["tabular"]))
        tab = {r["data"]: r["induced"] for r in res["tabular"] if r.get("induced")}
        if tab:
            write(os.path.join(FIG, "tabular_methods.svg"), figures.induced_boxplot(tab))
    if "fmnist" in res:
        write(os.path.join(FIG, "fmnist_methods.svg"), figures.fmnist_methods(res["fmnist"], res["fmnist"].get("induced")))
    write(os.path.join(BENCH, "results.json"), json.dumps(res, indent=1) + "\n")
    write(os.path.join(BENCH, "RESULTS.md"), markdown(res))
    print(f"  wrote bench/results.json, bench/RESULTS.md and bench/figures/")


if __name__ == "__main__":
    main()
