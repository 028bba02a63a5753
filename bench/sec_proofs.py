"""sec_proofs.py - neurons proven stable over the data's input box by
interval, symbolic and LP bounds (`lincomp analyze --prove=lp` runs the three
stages in turn and says which stage proved each neuron, and how long each
took), next to the paper's sign test (bench_forward --sign) and the
empirical counts (always / never active on the data), on the Fashion-MNIST
MLP and the tabular models (issue 5's benchmark).
"""
import concurrent.futures as cf
import os

import lib
from lib import CONFIG, OUT, fm, say
from sec_fmnist import MODEL as FM_MODEL
from sec_tabular import TAB, names, split


def prove(model, data, lp_time, threads=None):
    j, dt = lib.lc_json("analyze", model, "--data", data, "--prove=lp", "--lp-time", lp_time,
                        "--quiet", threads=threads)
    p = j["proof"]
    by = {m: sum(l["by_method"].get(m, 0) for l in p["layers"]) for m in ("interval", "symbolic", "lp")}
    sign, _ = lib.run([os.path.join(lib.B, "bench_forward"), "--sign", model, data])
    kv = {w[0]: float(w[1]) for w in (line.split() for line in sign.splitlines()) if len(w) == 2}
    hidden = sum(l["width"] for l in j["layers"])
    return {
        "hidden_neurons": hidden,
        "empirical_always_active": sum(l["always_active"] for l in j["layers"]),
        "empirical_never_active": sum(l["never_active"] for l in j["layers"]),
        "sign_test_linear": int(kv["sign_linear"]), "sign_test_dead": int(kv["sign_dead"]),
        "interval": by["interval"],
        "symbolic": by["interval"] + by["symbolic"],  # cumulative: what symbolic bounds prove
        "lp": by["interval"] + by["symbolic"] + by["lp"],
        "proven_linear": p["proven_linear"], "proven_constant": p["proven_constant"],
        "seconds": p["seconds_by_method"], "lp_stats": p.get("lp"), "lp_time_limit": lp_time,
        "box": p["box"], "wall_seconds": dt}


def line(name, r):
    s = r["seconds"]
    return (f"  {name:16s} {r['hidden_neurons']:6d} neurons: sign test {r['sign_test_linear'] + r['sign_test_dead']:5d}"
            f" | interval {r['interval']:5d} ({s.get('interval', 0):.2f}s)"
            f" | symbolic {r['symbolic']:5d} ({s.get('symbolic', 0):.2f}s)"
            f" | lp {r['lp']:5d} ({s.get('lp', 0):.2f}s)"
            f" | empirical {r['empirical_always_active'] + r['empirical_never_active']:5d}")


def run():
    res = {"note": "proofs over the per-feature min/max box of the data (Fashion-MNIST: the validation "
                   "images; tabular: the training split); counts are neurons proven linear or dead; "
                   "symbolic and lp are cumulative (each stage adds to the previous)"}
    if not lib.help_has("analyze", "--prove"):
        lib.note("proofs", "lincomp analyze has no --prove: the proof benchmark was skipped")
        return res
    if os.path.exists(FM_MODEL):
        try:
            res["fmnist"] = prove(FM_MODEL, fm("val"), CONFIG["lp_time"])
            say(line("fmnist", res["fmnist"]))
        except (lib.Failed, KeyError, ValueError) as e:
            lib.note("proofs", f"fmnist failed: {e}")
    tab = []
    sets, _ = names()
    todo = [n for n in sets if os.path.exists(os.path.join(TAB, f"{n}.onnx"))]
    with cf.ThreadPoolExecutor(max_workers=lib.THREADS) as ex:
        futs = {n: ex.submit(prove, os.path.join(TAB, f"{n}.onnx"), split(n)[0],
                             max(1, CONFIG["lp_time"] // 4), 1) for n in todo}
        for n in todo:
            try:
                r = futs[n].result()
                r["data"] = n
                tab.append(r)
                say(line(n, r))
            except (lib.Failed, KeyError, ValueError) as e:
                lib.note("proofs", f"{n} failed: {e}")
    res["tabular"] = tab
    return res
