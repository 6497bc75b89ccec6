"""The demo workspace: simulator clips taken through the real workflow, so every view has content.

`build_demo(store)` (``cinestudio --workspace workspaces/demo demo``, run by ``make run``):

1. renders a few clips per class with the camera simulator into ``WORKSPACE/media/demo-sim``
   (CPU only, no downloads);
2. imports them with the same use-case as ``cinestudio import`` (shots, thumbnails, motion
   pre-labels, fingerprints);
3. has two demo annotators label some clips (from the simulator's exact labels, with a few
   deliberate disagreements, so agreement statistics and the verify queue have content);
4. has a demo reviewer verify a couple of clips (one accepted as is, one fixed) and reject one.

Idempotent: a finished demo is marked by the ``demo.built`` setting, and a second run does
nothing and says so. An interrupted build resumes (the simulator and the import skip what is
done; labels and reviews are only added where missing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cinestudio.dataset.annotate import annotate_clip
from cinestudio.dataset.collect import import_paths
from cinestudio.dataset.scheme import workspace_taxonomy
from cinestudio.dataset.verify import verify_clip
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.store import WorkspaceStore

DEMO_SETTING = "demo.built"
DEMO_VERSION = 1
ANNOTATORS = ("demo_ana", "demo_ben")
REVIEWER = "demo_reviewer"
SIM_FOLDER = "media/demo-sim"
PER_CLASS = 2
SIZE = 96
FRAMES = 24
FPS = 12.0
SEED = 7
LABELLED = 14      # clips labelled by demo_ana (the first ones of the import)
DOUBLE = 10        # ... of which demo_ben labels the first DOUBLE too


def demo_status(store: WorkspaceStore) -> dict[str, Any] | None:
    """The ``demo.built`` marker of a finished demo, or None."""
    value = store.settings.get(DEMO_SETTING)
    return value if isinstance(value, dict) else None


def _sim_labels(sim_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    labels = sim_dir / "labels.jsonl"
    for line in labels.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out[str((sim_dir / rec["file"]).resolve())] = rec
    return out


def _other(keys: list[str], key: str) -> str:
    return keys[(keys.index(key) + 1) % len(keys)] if key in keys else keys[0]


def build_demo(store: WorkspaceStore, *, progress: ProgressFn | None = None,
               should_stop: StopFn | None = None, per_class: int = PER_CLASS,
               size: int = SIZE, frames: int = FRAMES) -> dict[str, Any]:
    """Build the demo content in `store`'s workspace (see the module docstring).

    Returns ``{"created": bool, "workspace", "clips", "labels", "reviews", "seconds"?}``;
    ``created`` is False when the demo was already there (nothing is done then).
    """
    import time

    from cinestudio.camerasim.dataset import simulate_dataset
    from cinestudio.storyboard.demo import ensure_demo_storyboard

    ensure_demo_storyboard(store)   # the sample storyboard (idempotent, also for older demos)
    done = demo_status(store)
    if done is not None:
        return {"created": False, "workspace": str(store.paths.root), **done}
    t0 = time.monotonic()
    report = (lambda d, t, m="": None) if progress is None else progress
    sim_dir = store.paths.root / SIM_FOLDER

    def stage(offset: int, span: int, what: str) -> ProgressFn:
        return lambda d, t, m="": report(offset + (span * d // t if t else 0), 100,
                                         f"{what} {m}".strip())

    simulate_dataset(sim_dir, per_class=per_class, seed=SEED, size=size, frames=frames, fps=FPS,
                     progress=stage(0, 50, "simulating"), should_stop=should_stop)
    check_stop(should_stop)
    imported = import_paths(store, [sim_dir / "clips"], progress=stage(50, 45, "importing"),
                            should_stop=should_stop)
    truth = _sim_labels(sim_dir)
    tax = workspace_taxonomy(store)
    keys = {axis: tax.keys(axis) for axis in ("framing", "angle", "movement")}
    clips = []   # (clip id, simulator record), in import order
    for src in store.sources.all():
        rec = truth.get(str(Path(src.path).resolve()))
        if rec is None:
            continue
        clips += [(c.id, rec) for c in store.clips.find(source_id=src.id, details=False)]
    clips.sort()
    report(95, 100, "labelling")
    for n, (clip_id, rec) in enumerate(clips[:LABELLED]):
        check_stop(should_stop)
        label = {"framing": rec["framing"], "angle": rec["angle"], "movements": [rec["movement"]],
                 "caption": rec.get("caption")}
        annotate_clip(store, clip_id, ANNOTATORS[0], taxonomy=tax, **label)
        if n < DOUBLE:
            second = dict(label, caption=None)
            if n % 4 == 1:      # a deliberate disagreement on the angle
                second["angle"] = _other(keys["angle"], rec["angle"])
            elif n % 4 == 3:    # ... and one on the movement
                second["movements"] = [_other(keys["movement"], rec["movement"])]
            annotate_clip(store, clip_id, ANNOTATORS[1], taxonomy=tax, **second)
    plan = []
    if len(clips) > 2:
        plan.append(("accept", clips[0]))              # both agree: accepted as is
        plan.append(("fix", clips[1]))                 # they disagree on the angle: fixed
        plan.append(("reject", clips[min(2, len(clips) - 1)]))
    for decision, (clip_id, rec) in plan:
        if store.clips.get(clip_id).review is not None:
            continue
        if decision == "accept":
            verify_clip(store, clip_id, REVIEWER, decision="accept", taxonomy=tax)
        elif decision == "fix":
            verify_clip(store, clip_id, REVIEWER, decision="fix", taxonomy=tax,
                        fixes={"angle": rec["angle"]})
        else:
            verify_clip(store, clip_id, REVIEWER, decision="reject",
                        reason="demo: the subject leaves the frame")
    info = {"version": DEMO_VERSION, "clips": store.clips.count(), "sources": store.sources.count(),
            "labels": store.labels.count(), "reviews": store.reviews.count(),
            "annotators": list(ANNOTATORS), "reviewer": REVIEWER,
            "import_errors": len(imported.errors)}
    store.settings.set(DEMO_SETTING, info, actor="demo")
    report(100, 100, "done")
    return {"created": True, "workspace": str(store.paths.root), **info,
            "seconds": round(time.monotonic() - t0, 1)}
