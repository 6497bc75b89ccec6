"""Evaluating a run: retrieval R@1 per axis, confusion matrices, direction flip rates.

R@1 as the paper defines it: for each clip and axis, the video embedding is compared with the
text embeddings of all the axis's classes; a hit when the best-scoring class is the clip's label
(any of them, for multi-label movement). Clips without a label on an axis do not count there.
A direction flip is a clip of one side of a pair (pan left/right, tilt up/down, zoom and dolly
in/out, ...) predicted as the other side.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cinestudio.cameraclip import features
from cinestudio.cameraclip.augment import DIRECTION_PAIRS
from cinestudio.cameraclip.data import ClipTable, FrameCache, load_items, load_table
from cinestudio.cameraclip.experts import PAIRS
from cinestudio.cameraclip.infer import LoadedRun, load_run
from cinestudio.cameraclip.plots import confusion_plot, misread_sheet
from cinestudio.cameraclip.train import predict_table, retrieval_r1
from cinestudio.progress import ProgressFn, StopFn
from cinestudio.taxonomy import AXES


def flip_rates(pred_keys: list[str], truth: list[tuple[str, ...]]) -> dict:
    pairs: dict[str, dict] = {}
    total_n = total_flips = 0
    for a, b in DIRECTION_PAIRS:
        n = flips = 0
        for p, t in zip(pred_keys, truth):
            if len(t) != 1 or t[0] not in (a, b):
                continue
            n += 1
            flips += p == (b if t[0] == a else a)
        if n:
            pairs[f"{a}/{b}"] = {"n": n, "flips": flips, "rate": round(flips / n, 4)}
            total_n += n
            total_flips += flips
    return {"pairs": pairs, "n": total_n, "flips": total_flips,
            "rate": round(total_flips / total_n, 4) if total_n else None}


MISREAD_ROWS = 60  # rows on the misread sheet; more would make a PNG too tall to look through


def misreads(table: ClipTable, predictions: list[dict]) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """Every (clip index, axis, predicted class, true classes) where the prediction is none of
    the clip's labels, axis by axis in taxonomy order."""
    out = []
    for axis in AXES:
        for i, (it, p) in enumerate(zip(table.items, predictions)):
            if it.labels[axis] and p[axis] not in it.labels[axis]:
                out.append((i, axis, p[axis], tuple(it.labels[axis])))
    return out


def write_misread_sheet(path: Path, table: ClipTable, predictions: list[dict], limit: int = MISREAD_ROWS) -> dict:
    """Draw the misread clips (every axis gets a fair share of the `limit` rows) into `path`;
    with none, remove an older sheet there. Returns ``{"png": path or None, "n", "shown"}``."""
    wrong = misreads(table, predictions)
    if not wrong:
        path.unlink(missing_ok=True)  # an earlier evaluation's sheet would no longer be true
        return {"png": None, "n": 0, "shown": 0}
    by_axis = {a: [w for w in wrong if w[1] == a] for a in AXES}
    picked: list = []
    while len(picked) < min(limit, len(wrong)):  # round-robin over the axes
        for a in AXES:
            if by_axis[a] and len(picked) < limit:
                picked.append(by_axis[a].pop(0))
    picked.sort(key=lambda w: (AXES.index(w[1]), w[0]))
    rows = [(f"{axis}: {'+'.join(truth)} -> {pred}   {table.items[i].path.name}", table.frames[i])
            for i, axis, pred, truth in picked]
    misread_sheet(path, rows, total=len(wrong))
    return {"png": str(path), "n": len(wrong), "shown": len(rows)}


def evaluate_table(run: LoadedRun, table: ClipTable, movement_prior: float | None = None,
                   experts: tuple[str, ...] | None = None, four_ways: bool = True,
                   movement_cnn: bool = True) -> dict:
    """R@1 per axis etc. `movement_prior`: the estimator-prior bonus (None: the run's own; 0: the
    learned model alone, see `cinestudio.cameraclip.prior`); `experts`: the names of the run's
    experts to use when it has them (None: all; `cinestudio.cameraclip.experts`); `four_ways`:
    movement read from the clip mirrored and reversed too (`cinestudio.cameraclip.symmetry`);
    `movement_cnn`: with the run's movement CNN when it has one (`cinestudio.cameraclip.movement_cnn`)."""
    tax = run.taxonomy
    prior = run.movement_prior if movement_prior is None else float(movement_prior)
    used = [e for e in run.experts if experts is None or e.pair.name in experts]
    cnn = run.movement_cnn if movement_cnn else None
    pred = predict_table(run.model, tax, table, movement_prior=prior, experts=used, four_ways=four_ways,
                         movement_cnn=cnn)
    r1 = retrieval_r1(pred, table, tax)
    learned = retrieval_r1({a: {**p, "pred": p["pred_learned"]} for a, p in pred.items()}, table, tax)
    confusion: dict[str, dict] = {}
    for axis in AXES:
        keys = pred[axis]["keys"]
        m = np.zeros((len(keys), len(keys)), int)
        for p, it in zip(pred[axis]["pred"], table.items):
            if it.labels[axis]:
                truth = it.labels[axis][0] if keys[p] not in it.labels[axis] else keys[p]
                m[keys.index(truth), p] += 1
        confusion[axis] = {"classes": keys, "matrix": m.tolist()}
    move_keys = pred["movement"]["keys"]
    flips = flip_rates([move_keys[p] for p in pred["movement"]["pred"]], [it.labels["movement"] for it in table.items])
    scored = [v for v in r1.values() if v is not None]
    return {"n": len(table), "r1": round(float(np.mean(scored)), 4) if scored else None, "per_axis": r1,
            "movement_prior": prior, **{pair.config_key: any(e.pair is pair for e in used) for pair in PAIRS.values()},
            "four_ways": four_ways, "movement_cnn": cnn is not None,
            "per_axis_learned": learned,
            "counts": {a: sum(1 for it in table.items if it.labels[a]) for a in AXES},
            "confusion": confusion, "flips": flips,
            "predictions": [{"file": it.path.name, **{a: pred[a]["keys"][pred[a]["pred"][i]] for a in AXES},
                             **({"movement_learned": move_keys[pred["movement"]["pred_learned"][i]]} if prior > 0 or used or four_ways or cnn is not None else {})}
                            for i, it in enumerate(table.items)]}


def evaluate(run: str | os.PathLike[str] | LoadedRun, data: str | os.PathLike[str], report_dir: str | os.PathLike[str] | None = None,
             cache: str | os.PathLike[str] | None = None, device: str = "auto", progress: ProgressFn | None = None,
             should_stop: StopFn | None = None, movement_prior: float | None = None,
             experts: tuple[str, ...] | None = None, four_ways: bool = True, movement_cnn: bool = True) -> dict:
    """Evaluate a run on a simulator folder or manifest; write ``confusion.png`` and
    ``misread.png`` (the clips it reads wrong, `write_misread_sheet`) into `report_dir` (default:
    ``RUN/eval``)."""
    loaded = run if isinstance(run, LoadedRun) else load_run(run, device)
    items = load_items(data, loaded.taxonomy)
    run_dir = loaded.path or Path(".")
    cache_dir = Path(cache) if cache else run_dir / "cache"
    table = load_table(items, FrameCache(cache_dir, loaded.model.spec.num_frames, loaded.model.image_size),
                       progress, should_stop, "frames")
    result = evaluate_table(loaded, table, movement_prior, experts, four_ways, movement_cnn)
    report = Path(report_dir) if report_dir else run_dir / "eval"
    png = report / "confusion.png"
    confusion_plot(png, {a: (c["classes"], np.array(c["matrix"])) for a, c in result["confusion"].items()})
    result["confusion_png"] = str(png)
    sheet = write_misread_sheet(report / "misread.png", table, result["predictions"])
    result["misread_png"], result["misread"] = sheet["png"], {"n": sheet["n"], "shown": sheet["shown"]}
    result["data"] = str(data)
    trained_with = loaded.config.get("motion_features")
    if loaded.model.uses_motion and not features.features_match(trained_with, loaded.model.spec.motion_features):
        result["warnings"] = [f"motion features changed since training ({trained_with} → {features.fingerprint()}): "
                              "the media.motion estimator or cameraclip.features code differs; retrain for exact results"]
    return result
