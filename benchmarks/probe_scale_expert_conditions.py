"""Probe: which condition of the real-photo benchmark defeats a run's zoom/dolly expert?

The expert alone (no CameraCLIP) reads zooms and dollies over every scikit-image photograph
(`tests/helpers/photo_moves.py`, as `eval_cameraclip_real.py` makes them: 128×96, H.264, the 8
frames CameraCLIP samples, fitted to 64 px), at the benchmark's "hard" speed (0.6), under each of
the hard condition's parts alone and together: nothing else, sensor noise (6 grey levels),
hand-held shake (0.7 px), both. Each clip is read as the run reads it (as is, mirrored, reversed,
both). Prints, per condition, how many zooms and dollies it gets right.

    python benchmarks/probe_scale_expert_conditions.py RUN [--json]

The seventeenth session's figures (docs/cameraclip.md, "Why the zoom/dolly expert fails on shaky
clips") came from it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval_cameraclip_real import CONDITIONS as BENCHMARK_CONDITIONS  # noqa: E402  (this folder's benchmark)
from eval_cameraclip_real import load_photos, near_photo  # noqa: E402

HARD = BENCHMARK_CONDITIONS["hard"]
SPEED = HARD["speed"]
CONDITIONS = {f"speed {SPEED} only": {}, "+ noise": dict(noise=HARD["noise"]), "+ shake": dict(shake=HARD["shake"]),
              "+ noise + shake (hard)": dict(noise=HARD["noise"], shake=HARD["shake"])}
MOVES = ("zoom_in", "zoom_out", "dolly_in", "dolly_out")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--seed", type=int, default=1000, help="Clip i of a condition uses seed SEED + i (photo index).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from cinestudio.cameraclip import features
    from cinestudio.cameraclip.infer import load_run, read_clip
    from cinestudio.cameraclip.symmetry import VARIANTS
    from cinestudio.media.encode import write_mp4
    from tests.helpers.photo_moves import photo_move

    run = load_run(args.run, "cpu")
    expert = next((e for e in run.experts if e.pair.name == "scale"), None)
    if expert is None:
        raise SystemExit(f"{args.run} has no zoom/dolly expert (cinestudio clip expert RUN adds one)")
    photos = load_photos()
    num_frames = run.model.spec.num_frames
    report = {}
    with tempfile.TemporaryDirectory(prefix="expert_conditions_") as tmp:
        clip_file = Path(tmp) / "clip.mp4"
        for name, extra in CONDITIONS.items():
            clips, is_dolly = [], []
            for i, (_, img) in enumerate(photos):
                near = near_photo(photos, i)
                for move in MOVES:
                    frames = photo_move(img, move, frames=16, size=(128, 96), speed=SPEED, rng=args.seed + i,
                                        near=near if move.startswith("dolly") else None, **extra)
                    write_mp4(clip_file, list(frames), fps=8)
                    clips.append(features.fit_frames(read_clip(clip_file, num_frames), expert.size))
                    is_dolly.append(move.startswith("dolly"))
            truth = np.array(is_dolly)
            right = (expert.p_second(np.stack(clips), VARIANTS) > 0.5) == truth
            report[name] = {"zooms_right": int(right[~truth].sum()), "zooms": int((~truth).sum()),
                            "dollies_right": int(right[truth].sum()), "dollies": int(truth.sum())}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, r in report.items():
            print(f"{name:24s} zooms {r['zooms_right']:2d}/{r['zooms']}  dollies {r['dollies_right']:2d}/{r['dollies']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
