"""bench.py - runs the benchmark sections in order, prints each one's elapsed
time against its plan, and writes bench/results.json, bench/RESULTS.md and
bench/figures/ (report.py). Called by bench/run (`make bench`,
`make bench-quick`).

Environment: B (build folder), THREADS (default: all cores), BENCH_QUICK=1
(reduced run for development), BENCH_SECTIONS=a,b (run only these; the
report merges them with the results of earlier runs), BENCH_REUSE=1 (keep
the trained Fashion-MNIST model of an earlier run with the same recipe).

PLAN below is the time plan of the full run on 2 cores (45 minutes in all);
the expensive parts are the Fashion-MNIST training epochs (50,000 images at
batch 32), which the epoch caps in lib.CONFIG bound. The induced section,
last, skips Fashion-MNIST budgets that no longer fit the remaining time and
says so in the notes.
"""
import traceback
import datetime
import os
import platform
import sys
import time

import lib
from lib import say

# (name, planned seconds full, planned seconds quick, what)
PLAN = [
    ("prepare", 10, 10, "data splits (Fashion-MNIST IDX, tabular CSV)"),
    ("fmnist-train", 560, 50, "the paper's MLP, SGD, early stopping, <= 10 epochs of 50,000 images"),
    ("fmnist", 700, 180, "sweep, target sizes +- 2 epochs of fine-tuning, pruning to 60 % + linearity"),
    # after fmnist: it times the compressed models fmnist writes
    ("speed", 240, 130, "forward vs ONNX Runtime and plain SGEMM, compressed models' speed-ups, statistics, "
                        "eval, sweep time, training epoch vs PyTorch"),
    ("titanic", 10, 5, "paper's Titanic architecture"),
    ("tabular", 300, 50, "every data set: train, targets, 0.5 pp budget; PyTorch comparison over seeds"),
    ("proofs", 90, 15, "interval / symbolic / LP proofs vs the paper's sign test"),
    ("induced", 790, 220, "induced linearity vs paper + fine-tuning vs pruning at equal size"),
]
BUDGET = 2700  # seconds, the whole full run


def section_fn(name):
    if name == "prepare":
        def f():
            lib.run([lib.PY, os.path.join(lib.ROOT, "bench", "prepare.py"), lib.OUT])
            return None
        return f
    import sec_fmnist
    import sec_induced
    import sec_proofs
    import sec_speed
    import sec_tabular
    return {"fmnist-train": sec_fmnist.run_train, "speed": sec_speed.run, "fmnist": sec_fmnist.run,
            "titanic": sec_tabular.run_titanic, "tabular": sec_tabular.run, "proofs": sec_proofs.run,
            "induced": sec_induced.run}[name]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    if not os.path.exists(lib.LINCOMP):
        lib.die(f"{lib.LINCOMP} is missing: run make first")
    only = [s for s in os.environ.get("BENCH_SECTIONS", "").split(",") if s]
    unknown = [s for s in only if s not in [p[0] for p in PLAN]]
    if unknown:
        lib.die(f"unknown section(s) {','.join(unknown)}; sections: {' '.join(p[0] for p in PLAN)}")
    plan = [p for p in PLAN if not only or p[0] in only or p[0] == "prepare"]
    quick = lib.QUICK
    total_plan = sum(p[2 if quick else 1] for p in plan)
    say(f"lincomp bench ({'quick' if quick else 'full'} run, {lib.THREADS} threads): "
        f"{len(plan)} sections, planned {total_plan / 60:.0f} minutes")
    for name, full, q, what in plan:
        say(f"  {name:13s} {q if quick else full:5d} s  {what}")
    if not quick:  # the quick run exercises everything, however long it takes
        lib.set_deadline(time.monotonic() + BUDGET)
    meta = lib.load("meta") or {}
    sections = meta.get("sections", {}) if only else {}
    t_start = time.monotonic()
    failed = []
    for name, full, q, what in plan:
        planned = q if quick else full
        say(f"\n=== {name}: {what} (planned {planned} s)")
        lib.reset_notes()
        t0 = time.monotonic()
        try:
            res = section_fn(name)()
        except lib.Failed as e:
            lib.note(name, f"section failed: {e}")
            failed.append(name)
            res = None
        except Exception as e:  # a bug in a section must not lose the others
            traceback.print_exc()
            lib.note(name, f"section failed: {type(e).__name__}: {e}")
            failed.append(name)
            res = None
        dt = time.monotonic() - t0
        if name != "prepare":
            # a failed section leaves only its notes: stale numbers of an
            # earlier run must not reach the report
            res = res if res is not None else {"failed": True}
            res["notes"] = lib.notes()
            lib.save(name, res)
        sections[name] = {"seconds": dt, "planned": planned}
        say(f"=== {name}: {dt:.0f} s (planned {planned} s); elapsed {(time.monotonic() - t_start) / 60:.1f} min")
    total = time.monotonic() - t_start
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "cpu": cpu_name(),
            "cores": os.cpu_count(), "threads": lib.THREADS, "mode": "quick" if quick else "full",
            "command": "make bench-quick" if quick else "make bench", "config": lib.CONFIG,
            "sections": sections, "total_seconds": sum(s["seconds"] for s in sections.values()),
            "python": sys.version.split()[0]}
    lib.save("meta", meta)
    say(f"\n=== report")
    lib.run([lib.PY, os.path.join(lib.ROOT, "bench", "report.py")])
    say(f"  wrote bench/results.json, bench/RESULTS.md, bench/figures/")
    say(f"\nbench: {total / 60:.1f} minutes" + (f"; failed sections: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
