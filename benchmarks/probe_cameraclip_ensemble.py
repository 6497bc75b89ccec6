"""Probe: would an ensemble of CameraCLIP runs read better than one run? (post hoc, no training)

Each run classifies the clips as `clip eval` does (movement read four ways, with its estimator
prior); an ensemble averages its runs' class probabilities per axis, then one run's experts
(``--experts``, default the first run) decide zoom against dolly and pan against tracking, as for
a single run. Prints R@1 per axis for each run alone and for each ensemble given with ``--groups``
(indices into the runs, comma-separated); on the real-photo set (`eval_cameraclip_real.py`'s
folder, which has a ``condition`` per clip) also top-1 per condition and on the camera-only clips,
counted by that benchmark's own `summarise`.

    python benchmarks/probe_cameraclip_ensemble.py RUN_A RUN_B ... --data DIR [--groups 0,1 2,3] [--json]

The sixteenth session's figures (docs/cameraclip.md, "An ensemble of runs") came from it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, required=True, help="A folder with labels.jsonl (simulator or real-photo set).")
    ap.add_argument("--experts", type=Path, default=None, help="The run whose experts the ensembles use (default: the first).")
    ap.add_argument("--groups", nargs="*", default=[], help="Ensembles: comma-separated indices into the runs.")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from cinestudio.cameraclip.data import FrameCache, load_items, load_table
    from cinestudio.cameraclip.experts import choose_moves
    from cinestudio.cameraclip.infer import class_embeddings, embed_prepared, load_run, movement_choice
    from cinestudio.cameraclip.symmetry import VARIANTS
    from cinestudio.taxonomy import AXES
    from eval_cameraclip_real import summarise  # this folder's real-photo benchmark: top-1 per condition

    runs = [load_run(r, "cpu") for r in args.runs]
    items = load_items(args.data, runs[0].taxonomy)
    first = runs[0].model
    table = load_table(items, FrameCache(Path(tempfile.mkdtemp(prefix="probe_cache_")), first.spec.num_frames,
                                         first.image_size), None, None, "frames", 2)
    experts = load_run(args.experts, "cpu").experts if args.experts else runs[0].experts
    p_second = {e.pair.name: e.p_second(table.frames, VARIANTS) for e in experts}
    lines = [json.loads(x) for x in (args.data / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    # the real-photo set: movement and condition per file, as its own benchmark reads them
    truth = {x["file"]: (x["movement"], x["condition"]) for x in lines if x.get("condition")}

    @torch.no_grad()
    def probabilities(run) -> dict:
        m = run.model
        video = embed_prepared(m, table.frames, m.encode_motion(table.motion))
        out = {}
        for axis in AXES:
            keys, text = class_embeddings(m, run.taxonomy, axis)
            if axis == "movement":
                probs = movement_choice(m, table.frames, table.motion, video, keys, text, run.movement_prior)[0]
            else:
                probs = torch.softmax(m.logit_scale.exp().clamp(max=100.0) * (video @ text.T), 1).cpu().numpy()
            out[axis] = (keys, probs)
        return out

    each = [probabilities(r) for r in runs]

    def score(group: list[int]) -> dict:
        res: dict[str, float | None] = {}
        moves: list[str] = []
        for axis in AXES:
            keys = each[group[0]][axis][0]
            probs = np.mean([each[i][axis][1] for i in group], 0)
            pred = choose_moves(probs, keys, p_second) if axis == "movement" else probs.argmax(1)
            picked = [keys[j] for j in pred]
            moves = picked if axis == "movement" else moves
            hits = [k in it.labels[axis] for k, it in zip(picked, items) if it.labels[axis]]
            res[axis] = round(float(np.mean(hits)), 4) if hits else None
        if truth:
            by_condition = summarise({it.path.name: k for k, it in zip(moves, items)}, truth)
            res.update({cond: s["top1"] for cond, s in by_condition.items() if cond != "all"})
        return res

    report = {r.name: score([i]) for i, r in enumerate(args.runs)}
    for g in args.groups:
        idx = [int(x) for x in g.split(",")]
        report["+".join(args.runs[i].name for i in idx)] = score(idx)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, res in report.items():
            print(f"{name:30s} " + "  ".join(f"{k} {v:.3f}" for k, v in res.items() if v is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
