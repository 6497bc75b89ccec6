"""The render plan: which shots a render needs, how many frames each, and which are cached.

A shot's render is identified by a content hash of everything that decides its pixels for the
backend (framing, angle, movements, frame count, seed, board size and fps, the reference
image's bytes; for diffusion also the prompt, LoRA weights and the diffusion settings) plus the
renderer's version. Titles and notes do not count, so renaming a shot does not re-render it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.storyboard.cache import CachedRender, RenderCache
from cinestudio.storyboard.model import Board, Shot

#: Bump when a backend's output for the same inputs changes (old cache entries then miss).
RENDERER_VERSIONS = {"previz": 1, "diffusion": 1}

_file_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (memoised by path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    digest = _file_hashes.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = _file_hashes[key] = h.hexdigest()
    return digest


def shot_inputs(board: Board, shot: Shot, backend: str) -> dict[str, Any]:
    """What decides the pixels of `shot` rendered by `backend` (the hashed document)."""
    ref = board.resolve_path(shot.reference_image)
    ref_hash = file_sha256(ref) if ref is not None and ref.is_file() else (shot.reference_image or None)
    doc: dict[str, Any] = {
        "backend": backend,
        "renderer": RENDERER_VERSIONS[backend],
        "framing": shot.framing,
        "angle": shot.angle,
        "movements": list(shot.movements),
        "frames": shot.frames(board.fps),
        "fps": float(board.fps),
        "size": [int(board.width), int(board.height)],
        "seed": int(shot.seed),
        "reference_image": ref_hash,
    }
    if backend == "previz":
        doc["previz"] = {k: board.previz[k] for k in sorted(board.previz)}
    else:
        ds = board.diffusion_settings()
        doc["prompt"] = shot.prompt
        doc["loras"] = {k: float(v) for k, v in sorted((shot.loras or {}).items())}
        doc["diffusion"] = {k: ds[k] for k in sorted(ds) if k != "device"}
    return doc


def content_hash(board: Board, shot: Shot, backend: str) -> str:
    text = json.dumps(shot_inputs(board, shot, backend), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class PlanItem:
    index: int
    shot: Shot
    frames: int
    start: int                   # first frame of the shot in the sequence
    content_hash: str
    cached: CachedRender | None = None

    @property
    def end(self) -> int:
        return self.start + self.frames

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.shot.id, "title": self.shot.title, "frames": self.frames,
                "start_frame": self.start, "end_frame": self.end, "content_hash": self.content_hash,
                "cached": self.cached is not None}


@dataclass
class RenderPlan:
    board: Board
    backend: str
    items: list[PlanItem] = field(default_factory=list)

    @property
    def todo(self) -> list[PlanItem]:
        return [it for it in self.items if it.cached is None]

    @property
    def total_frames(self) -> int:
        return sum(it.frames for it in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"board": self.board.name, "backend": self.backend, "fps": self.board.fps,
                "size": [self.board.width, self.board.height], "total_frames": self.total_frames,
                "to_render": len(self.todo), "shots": [it.to_dict() for it in self.items]}


def plan_render(board: Board, backend: str, cache: RenderCache | None = None, *,
                shot_ids: list[str] | None = None) -> RenderPlan:
    """The plan for rendering `board` (or only the shots `shot_ids`) with `backend`.

    Items keep their place in the whole sequence even when only some shots are planned."""
    plan = RenderPlan(board, backend)
    start = 0
    for i, shot in enumerate(board.shots):
        n = shot.frames(board.fps)
        if shot_ids is None or shot.id in shot_ids:
            h = content_hash(board, shot, backend)
            plan.items.append(PlanItem(i, shot, n, start, h, cache.get(h) if cache is not None else None))
        start += max(0, n)
    return plan
