"""Pre-labellers: machine suggestions stored beside clips, never mistaken for human labels.

A pre-labeller has an ``origin`` (the name its suggestions are stored under), a ``model_id``
(what produced them, for provenance) and ``prelabel(video, shot) -> [PrelabelSpec]``; the import
use-case calls it for every kept shot, before the shot's database transaction. Two ship here:

- `MotionPrelabeller` (origin ``motion``): the movement classes the classical camera-motion
  estimator found in the shot during the import's single decoding pass (no extra decoding);
  confidence from the estimator's own per-segment confidence, weighted by how much of the shot
  the class covers. Several movements are ranked in the order they happen (details
  ``{"sequence": true}``), like a human label's ordered movements.
- `CameraClipPrelabeller` (origin ``cameraclip``): all three axes from a trained CameraCLIP run,
  used only when the workspace setting ``cameraclip.active_run`` names one. The CameraCLIP code
  (torch, open_clip) is imported by name when the first clip is classified, so this package
  never depends on it statically (the GUI, which calls these use-cases, must not import torch).

Others plug in with `register_prelabeller(name, factory)`; a factory gets the open workspace and
its taxonomy and returns a pre-labeller, or None when it does not apply to that workspace.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cinestudio.dataset.analysis import ShotAnalysis, VideoAnalysis
from cinestudio.errors import UserInputError
from cinestudio.store import PrelabelSpec, WorkspaceStore
from cinestudio.store.settings import CAMERACLIP_RUN
from cinestudio.taxonomy import AXES, Taxonomy

MOTION_MODEL_ID = "motion-lk-ransac-v1"


class Prelabeller(Protocol):
    origin: str
    model_id: str | None

    def prelabel(self, video: VideoAnalysis, shot: ShotAnalysis) -> list[PrelabelSpec]: ...


class MotionPrelabeller:
    """Movement suggestions from the motion estimator's report of each shot."""

    origin = "motion"
    model_id: str | None = MOTION_MODEL_ID

    def __init__(self, taxonomy: Taxonomy):
        self.keys = set(taxonomy.keys("movement"))

    def prelabel(self, video: VideoAnalysis, shot: ShotAnalysis) -> list[PrelabelSpec]:
        return motion_prelabels(shot.motion, shot.start, shot.end, self.keys)


def motion_prelabels(motion: dict[str, Any] | None, start: int, end: int,
                     allowed: set[str]) -> list[PrelabelSpec]:
    """`PrelabelSpec`s (axis movement, ranked strongest first) from a shot's motion report."""
    if not motion:
        return []
    segments = motion.get("segments") or []
    length = max(1, end - start)
    found = []
    for strength, name in enumerate(motion.get("dominant") or []):
        if name not in allowed:
            continue
        segs = [s for s in segments if s.get("movement") == name
                or name in (s.get("components") or [])
                or (name == "static" and not s.get("components"))]
        covered = sum(s["end"] - s["start"] for s in segs)
        conf = (sum((s["end"] - s["start"]) * float(s.get("confidence") or 0.0) for s in segs)
                / covered) if covered else 0.0
        conf *= min(1.0, covered / length)
        first = min((s["start"] for s in segs), default=start)
        found.append((first, strength, name, conf, [[s["start"], s["end"]] for s in segs]))
    # Ranked in the order the movements happen (strongest first when they happen together), so
    # "pan_left then zoom_in" reads as a sequence, the way a human label lists movements.
    found.sort(key=lambda f: (f[0], f[1]))
    sequence = len(found) > 1
    return [PrelabelSpec(axis="movement", key=name, confidence=round(min(1.0, conf), 3), rank=rank,
                         details={"sequence": sequence, "strength_rank": strength,
                                  "segments": segs, "pairs": motion.get("pairs")})
            for rank, (_, strength, name, conf, segs) in enumerate(found)]


class CameraClipPrelabeller:
    """All three axes from a trained CameraCLIP run (loaded on first use)."""

    origin = "cameraclip"
    MODULE = "cinestudio.cameraclip.infer"   # imported by name: no static dependency on torch

    def __init__(self, run_dir: str | Path, taxonomy: Taxonomy, *, top_k: int = 3,
                 device: str = "cpu"):
        self.run_dir = Path(run_dir)
        self.taxonomy = taxonomy
        self.top_k = top_k
        self.device = device
        self.model_id: str | None = str(self.run_dir)
        self._mod: Any = None
        self._run: Any = None

    def _load(self) -> None:
        if self._run is None:
            self._mod = importlib.import_module(self.MODULE)
            self._run = self._mod.load_run(self.run_dir, device=self.device)

    def prelabel(self, video: VideoAnalysis, shot: ShotAnalysis) -> list[PrelabelSpec]:
        self._load()
        frames = self._mod.read_clip(video.path, self._run.model.spec.num_frames, shot.start,
                                     shot.end)
        ranked = self._mod.classify_frames(self._run, frames)
        specs = []
        for axis in AXES:
            allowed = set(self.taxonomy.keys(axis))
            kept = [r for r in ranked.get(axis, []) if r["key"] in allowed][: self.top_k]
            for rank, r in enumerate(kept):
                specs.append(PrelabelSpec(axis=axis, key=r["key"],
                                          confidence=round(min(1.0, max(0.0, float(r["score"]))), 4),
                                          rank=rank,
                                          details={"similarity": r.get("similarity")}))
        return specs


def resolve_cameraclip_run(store: WorkspaceStore, value: Any) -> Path:
    """The run folder a ``cameraclip.active_run`` setting names: a folder (absolute, or relative
    to the workspace or its ``runs/``), or the id of a job that produced a run."""
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        job = store.jobs.get(int(value))
        if not job.run_dir:
            raise UserInputError(CAMERACLIP_RUN, f"job {value} has no run folder")
        value = job.run_dir
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(CAMERACLIP_RUN, f"not a run folder or job id: {value!r}")
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [store.paths.root / path,
                                                     store.paths.runs_dir / path]
    for c in candidates:
        if c.is_dir():
            return c
    raise UserInputError(CAMERACLIP_RUN, f"CameraCLIP run folder not found: {value}")


def _cameraclip_factory(store: WorkspaceStore, taxonomy: Taxonomy) -> Prelabeller | None:
    value = store.settings.get(CAMERACLIP_RUN)
    if value in (None, ""):
        return None
    run = resolve_cameraclip_run(store, value)
    if not (run / "config.json").is_file():
        raise UserInputError(CAMERACLIP_RUN, f"not a CameraCLIP run folder (no config.json): {run}")
    return CameraClipPrelabeller(run, taxonomy)


PrelabellerFactory = Callable[[WorkspaceStore, Taxonomy], "Prelabeller | None"]
_FACTORIES: dict[str, PrelabellerFactory] = {
    "motion": lambda store, tax: MotionPrelabeller(tax),
    "cameraclip": _cameraclip_factory,
}


def register_prelabeller(name: str, factory: PrelabellerFactory) -> None:
    """Add (or replace) a pre-labeller that `default_prelabellers` builds for every import."""
    _FACTORIES[name] = factory


def unregister_prelabeller(name: str) -> None:
    _FACTORIES.pop(name, None)


def default_prelabellers(store: WorkspaceStore, taxonomy: Taxonomy) -> list[Prelabeller]:
    """The pre-labellers an import uses in this workspace (motion; CameraCLIP when set; plug-ins).

    Raises UserInputError when a setting names something unusable (e.g. a missing run folder),
    before any file is imported.
    """
    out = []
    for factory in _FACTORIES.values():
        p = factory(store, taxonomy)
        if p is not None:
            out.append(p)
    return out
