"""CameraCLIP training steps per second by torch thread policy, on an idle machine and on a busy one.

Policies: 1 thread (the baseline, the default before `cinestudio.cpu_threads`), all usable cores,
and the default (`ThreadGovernor`: whichever of the two runs steps faster, checked during the run).
"Busy" runs one spinning process per core but one beside the training, as another job or
program would; "passing" runs them only for the first quarter of each run (a test or a build that
ends while the training goes on). Each run trains the default model for `--seconds` on the same
small simulated set (frames cached first), and the ratio is steps against the 1-thread run of the
same scenario.

    python benchmarks/bench_train_threads.py [--seconds 40] [--per-class 16] [--scenarios idle,busy,passing] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SCENARIOS = ("idle", "busy", "passing")


def _spinners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _stop(spinning: list[subprocess.Popen]) -> None:
    for p in spinning:
        p.kill()
        p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="training time per run")
    ap.add_argument("--per-class", type=int, default=16, help="simulated clips per class (20 classes)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if unknown := set(scenarios) - set(SCENARIOS):
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    from cinestudio.camerasim.dataset import simulate_dataset
    from cinestudio.cameraclip.train import TrainConfig, train
    from cinestudio.cpu_threads import usable_cpus

    cores = usable_cpus()
    policies = {"1 thread (baseline)": 1, f"{cores} threads": cores, "default (governor)": None}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "sim"
        simulate_dataset(data, per_class=args.per_class, seed=5)
        cache = Path(tmp) / "cache"
        train(TrainConfig(data=str(data), out=str(Path(tmp) / "warm"), cache=str(cache), epochs=1, threads=1, scale_expert_clips=0, track_expert_clips=0))
        for scenario in scenarios:
            spinning = _spinners(max(1, cores - 1)) if scenario == "busy" else []
            try:
                for name, threads in policies.items():
                    passing, timer = [], None
                    if scenario == "passing":
                        passing = _spinners(max(1, cores - 1))
                        timer = threading.Timer(args.seconds / 4, _stop, (passing,))
                        timer.start()
                    try:
                        out = Path(tmp) / f"{scenario}-{threads}"
                        summary = train(TrainConfig(data=str(data), out=str(out), cache=str(cache), epochs=10_000,
                                                    max_minutes=args.seconds / 60, threads=threads,
                                                    scale_expert_clips=0, track_expert_clips=0))
                    finally:
                        if timer is not None:
                            timer.cancel()
                            timer.join()
                        _stop(passing)  # killing a process twice is harmless; wait() returns at once
                    results.append({"scenario": scenario, "policy": name, "steps": summary["steps"],
                                    "steps_per_s": round(summary["steps"] / args.seconds, 2)})
            finally:
                _stop(spinning)
    for r in results:
        base = next(b for b in results if b["scenario"] == r["scenario"] and b["policy"].startswith("1 thread"))
        r["ratio"] = round(r["steps"] / max(1, base["steps"]), 2)
    if args.json:
        print(json.dumps({"cores": cores, "seconds": args.seconds, "results": results}, indent=1))
    else:
        print(f"{cores} usable cores, {args.seconds:.0f} s of training per run")
        for r in results:
            print(f"{r['scenario']:7s}  {r['policy']:20s} {r['steps']:6d} steps  {r['steps_per_s']:6.2f}/s  "
                  f"×{r['ratio']:.2f} vs 1 thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
