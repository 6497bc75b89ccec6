"""How well the flow estimator's parallax separates simulated dollies from zooms, per framing.

For fresh simulator clips (rendered in memory, as `cinestudio simulate` renders them: 64 px,
16 frames at 8 fps, the dataset's seeds per clip), the 8 frames CameraCLIP samples (frames 1, 3,
..., 15) go through the estimator (`global_motion(..., with_parallax=True)`, the motion-token
column); a clip's score is the median parallax over its pairs. AUC of that score, dolly vs zoom
(both directions), per framing and overall: 0.5 = no information, 1 = perfect. Also reported: the
median share of the frame the subject covers at its largest (near 1: no background is left to
show a dolly's parallax). Extreme close-up zooms and dollies are measured although `simulate` no
longer makes them (`camerasim.dataset._INDISTINCT`): this is where that decision comes from.

    python benchmarks/sim_parallax_auc.py --per-cell 40 --seed 7 --workers 1 --json

To measure another version of the simulator, put that tree's package first on the path
(``git archive OLD cinestudio resources | tar -x -C /tmp/old``, then ``PYTHONPATH=/tmp/old``).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

FRAMINGS = ("extreme_long_shot", "long_shot", "medium_shot", "close_up", "extreme_close_up")
ANGLES = ("eye_level", "high_angle", "low_angle", "overhead")
MOVES = ("zoom_in", "zoom_out", "dolly_in", "dolly_out")
SAMPLED = list(range(1, 16, 2))  # cinestudio.media.sampling.uniform_indices(0, 16, 8)


def auc(positive, negative) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    p = np.asarray(positive, float)[:, None]
    n = np.asarray(negative, float)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / max(p.size * n.size, 1))


def measure(job: tuple) -> dict:
    index, framing, angle, move, seed = job
    from cinestudio.camerasim.dataset import ClipPlan
    from cinestudio.camerasim.shot import ShotSpec, plan_shot, render_shot, shot_rng
    from cinestudio.media.motion import global_motion

    plan = ClipPlan(index, "movement", framing, angle, move, seed)
    # as dataset.render_clip, with subject masks
    for k in range(6):
        s = plan.seed if k == 0 else (plan.seed + 7919 * k) % (2**31 - 1)
        spec = ShotSpec(framing, angle, [move], frames=16, size=64, fps=8, seed=s, want_masks=True)
        if plan_shot(spec, shot_rng(s)).in_class:
            break
    shot = render_shot(spec)
    frames = shot.frames[SAMPLED]
    par = np.nan_to_num(global_motion(frames, with_parallax=True)[:, 4], nan=0.0)
    # how much of the frame the subject covers (no background left to show parallax when ~1)
    cover = float(shot.subject_masks[SAMPLED].mean(axis=(1, 2)).max())
    return {"framing": framing, "move": move, "parallax": float(np.median(par)), "subject_cover": cover}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-cell", type=int, default=24, help="clips per framing and move")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    jobs = []
    for framing in FRAMINGS:
        for move in MOVES:
            for _ in range(args.per_cell):
                jobs.append((len(jobs), framing, str(rng.choice(ANGLES)), move, int(rng.integers(0, 2**31 - 1))))
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(measure, jobs, chunksize=8))
    out = {}
    for framing in FRAMINGS + ("all",):
        sel = [r for r in rows if framing in ("all", r["framing"])]
        dolly = [r["parallax"] for r in sel if r["move"].startswith("dolly")]
        zoom = [r["parallax"] for r in sel if r["move"].startswith("zoom")]
        out[framing] = {"auc": round(auc(dolly, zoom), 3), "dolly_median": round(float(np.median(dolly)), 3),
                        "zoom_median": round(float(np.median(zoom)), 3),
                        "subject_cover": round(float(np.median([r["subject_cover"] for r in sel])), 3),
                        "clips": len(sel)}
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        for k, v in out.items():
            print(f"{k:18s} AUC {v['auc']:.3f}  parallax dolly {v['dolly_median']:.3f} zoom {v['zoom_median']:.3f}"
                  f"  subject covers {v['subject_cover']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
