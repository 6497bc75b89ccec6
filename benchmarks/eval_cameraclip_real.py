"""CameraCLIP movement on camera moves over REAL photographs, against the classical `motion` estimator.

Clips: every scikit-image sample photograph (never the simulator's procedural textures) seen by a
virtual camera (`tests/helpers/photo_moves.py`): static, pan left/right, tilt up/down, zoom in/out,
and dolly in/out (a nearer photo cut-out over the far one gives parallax), each under three
conditions — ``clean`` (a brisk move), ``slow`` (half speed) and ``hard`` (0.6 speed, sensor noise,
handheld shake) — and ``subject``: a brisk move while a cut-out of another photograph walks across
the frame on its own (a static camera that sees a moving subject is still static). 16 frames at 128×96, H.264, written with a ``labels.jsonl`` (movement only), so
``cinestudio clip eval RUN --data DIR`` reads the same set.

    python benchmarks/eval_cameraclip_real.py RUN [--data DIR] [--json]

Prints top-1 accuracy and direction flips of CameraCLIP (as the run classifies: movement read four
ways, with its movement CNN, estimator prior and experts when it has them; ``cameraclip_learned``:
the learned model alone, read once) and of
``estimate_motion`` (the ``cinestudio motion`` estimator, on all 16 frames; CameraCLIP samples its
8), per condition.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MOVES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "dolly_in", "dolly_out")
CONDITIONS = {"clean": dict(speed=1.0), "slow": dict(speed=0.5), "hard": dict(speed=0.6, noise=6.0, shake=0.7),
              "subject": dict(speed=1.0, mover=True)}
# The sets reported before the "subject" condition (December 2026, eighth session): the camera alone.
CAMERA_ONLY = ("clean", "slow", "hard")


def load_photos() -> list:
    """The benchmark's photographs, ``[(name, RGB array)]`` (exits when scikit-image is missing)."""
    from tests.helpers.photo_moves import PHOTOS, SKIP_REASON, photo

    photos = [(name, photo(name)) for name in PHOTOS]
    photos = [(n, p) for n, p in photos if p is not None]
    if not photos:
        raise SystemExit(SKIP_REASON)
    return photos


def near_photo(photos: list, i: int):
    """The photograph a dolly over photo `i` shows as its nearer cut-out."""
    return photos[(i + 3) % len(photos)][1]


def make_dataset(folder: Path) -> Path:
    from cinestudio.media.encode import write_mp4
    from tests.helpers.photo_moves import photo_move

    photos = load_photos()
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    # the camera-only clips first, so that their seeds (and pixels) are those of the earlier sets
    for conditions in (CAMERA_ONLY, [c for c in CONDITIONS if c not in CAMERA_ONLY]):
        for i, (name, img) in enumerate(photos):
            near = near_photo(photos, i)
            for move in MOVES:
                for cond in conditions:
                    seed = len(lines)
                    kw = dict(CONDITIONS[cond])
                    if kw.pop("mover", False):
                        kw["mover"] = photos[(i + 5) % len(photos)][1]
                    frames = photo_move(img, move, frames=16, size=(128, 96), rng=seed,
                                        near=near if move.startswith("dolly") else None, **kw)
                    file = f"{Path(name).stem}_{move}_{cond}.mp4"
                    write_mp4(folder / file, list(frames), fps=8)
                    lines.append({"file": file, "framing": None, "angle": None, "movement": move,
                                  "caption": None, "photo": name, "condition": cond})
    (folder / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return folder


def summarise(pred: dict[str, str], truth: dict[str, tuple[str, str]]) -> dict:
    from cinestudio.cameraclip.evaluate import flip_rates

    out = {}
    groups = {**{c: (c,) for c in CONDITIONS}, "camera_only": CAMERA_ONLY, "all": tuple(CONDITIONS)}
    for cond, members in groups.items():
        files = [f for f, (_, c) in truth.items() if c in members]
        if not files:
            continue  # a set made before that condition existed
        hits = [pred[f] == truth[f][0] for f in files]
        flips = flip_rates([pred[f] for f in files], [(truth[f][0],) for f in files])
        out[cond] = {"n": len(files), "top1": round(sum(hits) / len(files), 4), "flip_rate": flips["rate"],
                     "flips": flips["flips"]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--data", type=Path, default=None, help="Folder for the clips (made when empty).")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--movement-prior", type=float, default=None,
                    help="Estimator-prior bonus (default: the run's own; 0: the learned model alone).")
    ap.add_argument("--no-scale-expert", action="store_true",
                    help="Without the run's zoom/dolly expert (cinestudio.cameraclip.experts).")
    ap.add_argument("--no-track-expert", action="store_true",
                    help="Without the run's pan/tracking expert (cinestudio.cameraclip.experts).")
    ap.add_argument("--no-movement-cnn", action="store_true",
                    help="Without the run's movement CNN (cinestudio.cameraclip.movement_cnn).")
    ap.add_argument("--one-way", action="store_true",
                    help="Movement read from each clip as is only, not also mirrored and reversed "
                         "(cinestudio.cameraclip.symmetry).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from cinestudio.cameraclip.evaluate import evaluate
    from cinestudio.cameraclip.experts import expert_names
    from cinestudio.media.motion import estimate_motion

    data = args.data or Path(tempfile.mkdtemp(prefix="real_moves_"))
    if not (data / "labels.jsonl").is_file():
        make_dataset(data)
    entries = [json.loads(x) for x in (data / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = {e["file"]: (e["movement"], e["condition"]) for e in entries}

    t0 = time.perf_counter()
    result = evaluate(args.run, data, cache=Path(tempfile.mkdtemp(prefix="real_cache_")),
                      movement_prior=args.movement_prior,
                      experts=expert_names(scale=not args.no_scale_expert, track=not args.no_track_expert),
                      movement_cnn=not args.no_movement_cnn,
                      four_ways=not args.one_way)
    clip_s = time.perf_counter() - t0
    clip_pred = {p["file"]: p["movement"] for p in result["predictions"]}
    learned_pred = {p["file"]: p.get("movement_learned", p["movement"]) for p in result["predictions"]}

    t0 = time.perf_counter()
    motion_pred = {}
    for e in entries:
        report = estimate_motion(data / e["file"], scheme="cinematic2k")
        motion_pred[e["file"]] = (report.dominant or ["static"])[0]
    motion_s = time.perf_counter() - t0

    out = {"data": str(data), "n": len(entries), "moves": list(MOVES),
           "cameraclip": {**summarise(clip_pred, truth), "seconds": round(clip_s, 1),
                          "movement_prior": result["movement_prior"], "scale_expert": result["scale_expert"], "track_expert": result["track_expert"],
                          "movement_cnn": result["movement_cnn"]},
           "cameraclip_learned": summarise(learned_pred, truth),
           "motion_estimator": {**summarise(motion_pred, truth), "seconds": round(motion_s, 1)},
           "cameraclip_errors": sorted(f"{f}->{p}" for f, p in clip_pred.items() if p != truth[f][0]),
           "motion_errors": sorted(f"{f}->{p}" for f, p in motion_pred.items() if p != truth[f][0])}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{out['n']} real-photo clips ({', '.join(MOVES)}) in {data}")
    columns = [c for c in out["motion_estimator"] if isinstance(out["motion_estimator"][c], dict)]
    print(f"{'':<18}" + "".join(f"{c:>16}" for c in columns))
    for who in ("cameraclip", "cameraclip_learned", "motion_estimator"):
        row = out[who]
        print(f"{who:<18}" + "".join(f"{row[c]['top1']:>9.3f} f{row[c]['flip_rate'] or 0:>5.1%}" for c in columns))
    print("top-1 (f: direction flip rate)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
