"""CameraCLIP scores of rendered shots against the types the board asked for (sidecar JSON).

Imports torch through `cinestudio.cameraclip`: only the CLI and job workers use this module (the
GUI never imports it). `cameraclip_scorer(run)` returns a `Scorer` for `export_board`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.storyboard.export import Scorer
from cinestudio.storyboard.model import Shot


def summarise(ranked: dict[str, list[dict]], shot: Shot) -> dict[str, Any]:
    """Per axis: the intended class(es), their probability and rank, and the top class."""
    out: dict[str, Any] = {}
    probs = []
    for axis, intended in (("framing", [shot.framing]), ("angle", [shot.angle]), ("movement", shot.movements)):
        order = ranked.get(axis) or []
        keys = [r["key"] for r in order]
        per = []
        for key in intended:
            if key in keys:
                r = order[keys.index(key)]
                per.append({"key": key, "score": r["score"], "similarity": r.get("similarity"),
                            "rank": keys.index(key) + 1})
                probs.append(r["score"])
            else:
                per.append({"key": key, "score": None, "rank": None})
        out[axis] = {"intended": per, "top": keys[0] if keys else None,
                     "top_score": order[0]["score"] if order else None}
    out["mean_intended_score"] = round(float(np.mean(probs)), 4) if probs else None
    return out


def cameraclip_scorer(run: str | Path, device: str = "auto") -> Scorer:
    from cinestudio.cameraclip.infer import classify_frames, load_run

    loaded = load_run(run, device)

    def score(frames: np.ndarray, shot: Shot) -> dict[str, Any]:
        return {"run": str(run), **summarise(classify_frames(loaded, np.asarray(frames)), shot)}

    return score
