"""Export: labelled clips cut from their sources (H.264 MP4) with a manifest and splits.

    report = export_dataset(store, "out/", stage="verified", fmt="jsonl",
                            split=(0.8, 0.1, 0.1), seed=0)

Layout of OUT::

    manifest.jsonl | manifest.csv
    clips/000012.mp4 ...

One manifest row per clip: ``file`` (relative to the manifest), ``clip_id``, ``source`` (the
source video's path), ``source_id``, ``source_start``/``source_end`` (the frame range cut from
it), ``frames``, ``fps``, ``framing``, ``angle``, ``movement`` (a list, in order; in CSV joined
with ``;``), ``caption``, ``split`` (train / val / test), ``annotators``, ``reviewer``. The
CameraCLIP trainer reads ``manifest.jsonl`` directly (``cinestudio clip train --data OUT``).

Splits are stratified by class (every class's clips spread over the splits in the requested
proportions as far as whole sources allow) and grouped by source: all clips of one source video
go to the same split, so no video leaks from training into evaluation.

The export is atomic: everything is written into a temporary folder beside OUT, which replaces
OUT only when complete; a failed or cancelled export leaves OUT as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.dataset.verify import resolve_labels
from cinestudio.errors import MediaError, UserInputError
from cinestudio.fsutil import write_text_atomic
from cinestudio.media.decode import iter_frames
from cinestudio.media.encode import write_mp4
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.store import ClipFilter, ClipRecord, SourceRecord, WorkspaceStore

SPLIT_NAMES = ("train", "val", "test")
FORMATS = ("jsonl", "csv")
STAGES = ("verified", "annotated")
FIELDS = ("file", "clip_id", "source", "source_id", "source_start", "source_end", "frames", "fps",
          "framing", "angle", "movement", "caption", "split", "annotators", "reviewer")


@dataclass
class ExportReport:
    out: str
    manifest: str
    clips: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "manifest": self.manifest, "clips": self.clips,
                "splits": self.splits, "errors": self.errors}


def parse_split(text: str | Sequence[float] | None) -> tuple[float, ...]:
    """``"0.8,0.1,0.1"`` -> (0.8, 0.1, 0.1): one to three non-negative parts (train, val, test),
    normalised to sum to 1."""
    if text is None:
        return (1.0,)
    if isinstance(text, str):
        try:
            parts = tuple(float(p) for p in text.split(",") if p.strip())
        except ValueError:
            raise UserInputError(text, "split must be numbers like 0.8,0.1,0.1") from None
    else:
        parts = tuple(float(p) for p in text)
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise UserInputError(",".join(map(str, parts)) or "''",
                             "split needs 1 to 3 non-negative parts (train,val,test)")
    total = sum(parts)
    return tuple(p / total for p in parts)


def stratified_split(rows: Sequence[dict[str, Any]], fractions: Sequence[float], seed: int = 0,
                     group_key: str = "source_id") -> dict[int, str]:
    """clip_id -> split name. Whole groups (sources) are assigned greedily, largest first, to
    the split that most lacks their classes (and clips) relative to its target fraction."""
    names = SPLIT_NAMES[:len(fractions)]
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[group_key]].append(row)
    class_total: Counter = Counter()
    group_classes: dict[Any, Counter] = {}
    for g, members in groups.items():
        c: Counter = Counter()
        for row in members:
            c.update(_classes(row))
        group_classes[g] = c
        class_total.update(c)
    n_total = len(rows)
    rng = random.Random(seed)
    order = list(groups)
    rng.shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))   # stable: ties stay in shuffled order
    have: dict[str, Counter] = {s: Counter() for s in names}
    size: dict[str, int] = {s: 0 for s in names}
    out: dict[int, str] = {}
    for g in order:
        # Relative deficits (what split s still lacks of each of the group's classes, and of
        # clips overall, as a fraction of what it should get): largest wins, ties go to the
        # larger split.
        best, best_score = None, None
        n_classes = sum(group_classes[g].values()) or 1
        for s, frac in sorted(zip(names, fractions), key=lambda sf: -sf[1]):
            if frac <= 0:
                continue
            score = sum(cnt * (frac * class_total[k] - have[s][k]) / (frac * class_total[k])
                        for k, cnt in group_classes[g].items()) / n_classes
            score += (frac * n_total - size[s]) / (frac * n_total)
            if best_score is None or score > best_score + 1e-9:
                best, best_score = s, score
        assert best is not None
        have[best].update(group_classes[g])
        size[best] += len(groups[g])
        for row in groups[g]:
            out[row["clip_id"]] = best
    return out


def _classes(row: dict[str, Any]) -> list[str]:
    out = [f"framing:{row['framing']}", f"angle:{row['angle']}"]
    out += [f"movement:{m}" for m in row["movement"]]
    return out


def _label_of(clip: ClipRecord, stage: str) -> dict[str, Any] | None:
    if stage == "verified":
        r = clip.review
        if r is None or r.decision == "reject":
            return None
        return {"framing": r.framing, "angle": r.angle, "movement": list(r.movements),
                "caption": r.caption, "reviewer": r.reviewer}
    res = resolve_labels(clip.labels)
    if not clip.labels:
        return None
    return {"framing": res.framing, "angle": res.angle, "movement": list(res.movements),
            "caption": res.caption, "reviewer": None}


def _clips(store: WorkspaceStore, stage: str) -> list[ClipRecord]:
    out, offset = [], 0
    while True:
        page = store.clips.find(ClipFilter(stage=stage), limit=1000, offset=offset)
        out += page
        if len(page) < 1000:
            return out
        offset += 1000


def _manifest_text(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n"
                       for r in rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**{k: r[k] for k in FIELDS}, "movement": ";".join(r["movement"]),
                         "annotators": ";".join(r["annotators"])})
    return buf.getvalue()


def export_dataset(store: WorkspaceStore, out: str | os.PathLike[str], *, stage: str = "verified",
                   fmt: str = "jsonl", split: str | Sequence[float] | None = (0.8, 0.1, 0.1),
                   seed: int = 0, overwrite: bool = False, actor: str = "export",
                   progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> ExportReport:
    """Export the clips at `stage` (``verified``: the reviewers' labels; ``annotated``: the
    annotators' agreed labels) to the folder `out`; see the module docstring.

    UserInputError (nothing written) for a bad format/stage/split, an existing non-empty `out`
    without `overwrite`, or no clips to export. A clip whose source cannot be read is left out
    and listed in `errors` (exit code 1). `should_stop` raises `Cancelled` between clips.
    """
    if fmt not in FORMATS:
        raise UserInputError(fmt, f"unknown format (expected {' or '.join(FORMATS)})")
    if stage not in STAGES:
        raise UserInputError(stage, f"cannot export stage {stage!r} (expected {' or '.join(STAGES)})")
    fractions = parse_split(split)
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UserInputError(os.fspath(out), "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserInputError(os.fspath(out), "folder is not empty (choose another, or overwrite)")
    clips = _clips(store, stage)
    labelled = [(c, lab) for c in clips if (lab := _label_of(c, stage)) is not None]
    if not labelled:
        raise UserInputError(stage, f"no {stage} clips to export")
    sources: dict[int, SourceRecord] = {}
    rows: list[dict[str, Any]] = []
    for clip, lab in labelled:
        src = sources.get(clip.source_id) or store.sources.get(clip.source_id)
        sources[clip.source_id] = src
        rows.append({"file": f"clips/{clip.id:06d}.mp4", "clip_id": clip.id, "source": src.path,
                     "source_id": src.id, "source_start": clip.start_frame,
                     "source_end": clip.end_frame, "frames": clip.frame_count, "fps": src.fps,
                     "framing": lab["framing"], "angle": lab["angle"],
                     "movement": lab["movement"], "caption": lab["caption"], "split": None,
                     "annotators": [x.annotator for x in clip.labels],
                     "reviewer": lab["reviewer"]})
    manifest_name = f"manifest.{fmt}"
    report = ExportReport(out=os.fspath(out), manifest=os.fspath(out / manifest_name))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.export-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        (tmp / "clips").mkdir(parents=True)
        kept = []
        for k, row in enumerate(rows):
            check_stop(should_stop)
            if progress is not None:
                progress(k, len(rows), row["file"])
            try:
                frames = iter_frames(row["source"], row["source_start"], row["source_end"])
                write_mp4(tmp / row["file"], frames, row["fps"] or 25.0)
            except (MediaError, UserInputError) as exc:
                report.errors.append({"clip_id": row["clip_id"], "path": row["source"],
                                      "error": exc.reason})
                continue
            kept.append(row)
        if not kept:
            raise UserInputError(stage, "no clip could be exported: "
                                 + "; ".join(f"{e['path']}: {e['error']}" for e in report.errors[:3]))
        assignment = stratified_split(kept, fractions, seed)
        for row in kept:
            row["split"] = assignment[row["clip_id"]]
        write_text_atomic(tmp / manifest_name, _manifest_text(kept, fmt))
        _swap_into_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    report.clips = len(kept)
    report.splits = dict(Counter(r["split"] for r in kept))
    store.audit.record(actor, "export", os.fspath(out), "create", None,
                       {"stage": stage, "format": fmt, "clips": len(kept), "split": list(fractions),
                        "seed": seed, "clip_ids": [r["clip_id"] for r in kept]})
    if progress is not None:
        progress(len(rows), len(rows), "done")
    return report


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Replace `out` by the finished folder `tmp` (renames only: never half an export)."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
