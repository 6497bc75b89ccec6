"""Storyboard use-cases on a workspace, shared by the CLI and the Storyboard tab.

    board = create_board(store, "Chase")                       # a Board (model.py), stored
    board.shots.append(Shot("Wide", framing="long_shot", movements=["pan_right"]))
    save_board(store, board)
    renders = render_shots(store, board, "previz", progress=...)   # {shot id: RenderRecord}
    export_active(store, board, out_dir, formats=("mp4", "gif"))

Paths the workspace stores are relative to its root: rendered clips live in the render cache
``media/storyboards/renders`` (by content hash, see `cache.py`), reference images picked in the
app are copied into ``media/storyboards/refs`` so a workspace stays self-contained.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn
from cinestudio.storyboard.cache import RenderCache
from cinestudio.storyboard.export import FORMATS, ShotClip, export_board
from cinestudio.storyboard.model import Board, Shot, load_board_file, save_board_file
from cinestudio.storyboard.plan import plan_render, shot_inputs
from cinestudio.storyboard.render import Backend, get_backend, render_plan
from cinestudio.storyboard.validate import Issue, check_board, errors_only, validate_board

RENDERS_DIR = "media/storyboards/renders"
REFS_DIR = "media/storyboards/refs"
HISTORY_LIMIT = 12


def workspace_cache(store) -> RenderCache:
    return RenderCache(store.paths.root / RENDERS_DIR)


def rel_to_workspace(store, path: str | Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(store.paths.root.resolve()).as_posix()
    except ValueError:
        return str(p)


def workspace_scheme(store) -> str:
    from cinestudio.store.settings import TAXONOMY_SCHEME

    return str(store.settings.get(TAXONOMY_SCHEME) or "cinematic2k")


# --------------------------------------------------------------------------------------------
# Board <-> store

def _shot_row(shot: Shot) -> dict[str, Any]:
    return {"uid": shot.id, "title": shot.title, "prompt": shot.prompt, "framing": shot.framing,
            "angle": shot.angle, "movements": list(shot.movements), "duration": float(shot.duration),
            "duration_unit": shot.duration_unit, "seed": int(shot.seed), "reference_image": shot.reference_image,
            "loras": dict(shot.loras) if shot.loras else None, "notes": shot.notes}


def _header(board: Board) -> dict[str, Any]:
    return {"name": board.name, "fps": float(board.fps), "width": int(board.width), "height": int(board.height),
            "scheme": board.scheme, "previz": dict(board.previz) or None,
            "diffusion": dict(board.diffusion) or None, "notes": board.notes or None}


def _board_from_records(store, rec, shots) -> Board:
    return Board(name=rec.name, fps=rec.fps, width=rec.width, height=rec.height, scheme=rec.scheme,
                 previz=dict(rec.previz or {}), diffusion=dict(rec.diffusion or {}), notes=rec.notes or "",
                 id=rec.id, base_dir=store.paths.root,
                 shots=[Shot(id=s.uid, title=s.title, prompt=s.prompt, framing=s.framing, angle=s.angle,
                             movements=list(s.movements), duration=s.duration, duration_unit=s.duration_unit,
                             seed=s.seed, reference_image=s.reference_image,
                             loras=dict(s.loras) if s.loras else None, notes=s.notes or "") for s in shots])


def find_board(store, ref: str | int):
    """The stored board record named `ref` (or with id `ref`)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        rec = store.storyboards.find(str(ref))
        return rec if rec is not None else store.storyboards.get(int(ref))
    rec = store.storyboards.find(str(ref))
    if rec is None:
        names = [b.name for b in store.storyboards.list()]
        raise UserInputError(str(ref), "no storyboard of that name in this workspace"
                             + (f" (there are: {', '.join(names)})" if names else " (it has none yet)"))
    return rec


def load_board(store, ref: str | int) -> Board:
    rec = find_board(store, ref)
    return _board_from_records(store, rec, store.storyboards.shots(rec.id))


def list_boards(store) -> list[dict[str, Any]]:
    return [{"id": b.id, "name": b.name, "shots": b.shot_count, "fps": b.fps, "size": [b.width, b.height],
             "scheme": b.scheme, "updated_at": b.updated_at.isoformat()} for b in store.storyboards.list()]


def unique_name(store, name: str) -> str:
    taken = {b.name for b in store.storyboards.list()}
    if name not in taken:
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


def create_board(store, name: str, *, fps: float | None = None, width: int | None = None,
                 height: int | None = None, scheme: str | None = None, shots: list[Shot] | None = None,
                 actor: str = "system") -> Board:
    board = Board(name=name, scheme=scheme or workspace_scheme(store), shots=list(shots or []))
    if fps is not None:
        board.fps = float(fps)
    if width is not None:
        board.width = int(width)
    if height is not None:
        board.height = int(height)
    board.base_dir = store.paths.root
    return _create_full(store, board, actor=actor)


def _check_storable(board: Board) -> None:
    """Refuse what must never be stored (bad fps/size, unknown structure); class keys and
    durations are allowed while a board is being edited, validation reports them."""
    issues = [i for i in errors_only(validate_board(board, check_files=False)) if i.shot is None
              and i.field in ("fps", "size", "scheme")]
    if issues:
        raise UserInputError(f"board {board.name!r}", issues[0].message)


def save_board(store, board: Board) -> Board:
    """Store `board` (created when it has no id yet)."""
    if board.id is None:
        board.base_dir = board.base_dir or store.paths.root
        return _create_full(store, board)
    _check_storable(board)
    store.storyboards.save(board.id, shots=[_shot_row(s) for s in board.shots], **_header(board))
    return board


def delete_board(store, ref: str | int) -> bool:
    rec = find_board(store, ref)
    return store.storyboards.delete(rec.id)


def copy_reference_image(store, path: str | Path) -> str:
    """Copy a picture into the workspace's refs folder (by content); return its workspace path."""
    src = Path(path).expanduser()
    if not src.is_file():
        raise UserInputError(src, "reference image not found")
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in src.name)[-60:]
    target = store.paths.root / REFS_DIR / f"{digest}-{safe}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return rel_to_workspace(store, target)


def import_board(store, path: str | Path, *, name: str | None = None, replace: bool = False) -> Board:
    """Store a ``.cinestudio-board.json`` in the workspace (reference images copied in).

    The name is the file's (or `name`); with `replace` a board of that name is overwritten,
    otherwise the new one gets a free name ("Chase (2)")."""
    board = load_board_file(path)
    issues = [i for i in errors_only(validate_board(board)) if i.field != "shots"]
    if issues:
        text = issues[0].message if len(issues) == 1 else f"{len(issues)} problems: " + "; ".join(
            i.message for i in issues)
        raise UserInputError(path, text)
    for shot in board.shots:
        if shot.reference_image:
            shot.reference_image = copy_reference_image(store, board.resolve_path(shot.reference_image))
    board.base_dir = store.paths.root
    board.name = name or board.name
    existing = store.storyboards.find(board.name)
    if existing is not None and replace:
        board.id = existing.id
        return save_board(store, board)
    board.name = unique_name(store, board.name)
    return _create_full(store, board)


def _create_full(store, board: Board, actor: str = "system") -> Board:
    _check_storable(board)
    rec = store.storyboards.create(board.name, shots=[_shot_row(s) for s in board.shots], actor=actor,
                                   **{k: v for k, v in _header(board).items() if k != "name"})
    board.id = rec.id
    return board


def export_board_file(store, ref: str | int | Board, path: str | Path) -> Path:
    board = ref if isinstance(ref, Board) else load_board(store, ref)
    return save_board_file(board, path)


def board_issues(board: Board, backend: str | None = None) -> list[Issue]:
    return validate_board(board, backend=backend)


# --------------------------------------------------------------------------------------------
# Rendering in a workspace (history recorded)

class ShotRenders(dict):
    """{shot id: RenderRecord}; `fresh` holds the ids rendered now (the others came from the cache)."""

    fresh: set[str]


def render_shots(store, board: Board, backend: str = "previz", *, shot_ids: list[str] | None = None,
                 backend_impl: Backend | None = None, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> ShotRenders:
    """Render `board`'s shots (or `shot_ids`) into the workspace cache; each becomes its shot's
    active render and joins its history. Unchanged shots come from the cache. Returns
    {shot id: RenderRecord} (`.fresh`: ids rendered now). The board must be stored (have an id)."""
    if board.id is None:
        raise UserInputError(board.name, "save the storyboard before rendering it")
    board.base_dir = board.base_dir or store.paths.root
    sub = board.copy()
    if shot_ids is not None:
        sub.shots = [s for s in board.shots if s.id in shot_ids]
    check_board(sub, backend=backend)
    cache = workspace_cache(store)
    plan = plan_render(board, backend, cache, shot_ids=shot_ids)
    clips = render_plan(plan, cache, backend_impl or get_backend(backend), progress=progress,
                        should_stop=should_stop)
    out = ShotRenders()
    out.fresh = {it.shot.id for it in plan.items if it.cached is None}
    for it, clip in zip(plan.items, clips):
        entry = cache.get(it.content_hash)
        details = dict(entry.details) if entry else dict(clip.details)
        rec = store.storyboards.add_render(
            board.id, it.shot.id, backend=backend, content_hash=it.content_hash,
            clip_path=rel_to_workspace(store, clip.clip),
            thumbnail_path=rel_to_workspace(store, entry.thumbnail) if entry else None,
            frames=int(details.get("frames", it.frames)), width=int(details.get("width", board.width)),
            height=int(details.get("height", board.height)), fps=float(details.get("fps", board.fps)),
            inputs={**shot_inputs(board, it.shot, backend), "title": it.shot.title},
            details={k: v for k, v in details.items() if k not in ("scene",)},
            job_id=details.get("job_id"))
        store.storyboards.prune(board.id, it.shot.id, HISTORY_LIMIT)
        out[it.shot.id] = rec
    return out


def active_clips(store, board: Board, fresh: set[str] | None = None) -> list[ShotClip]:
    """Each shot's active render as a `ShotClip`; UserInputError naming shots without one.
    Shots in `fresh` are marked as rendered by this run (the sidecar's ``cached`` false)."""
    active = store.storyboards.active_renders(board.id) if board.id is not None else {}
    clips, missing = [], []
    for i, shot in enumerate(board.shots):
        rec = active.get(shot.id)
        path = store.paths.root / rec.clip_path if rec is not None else None
        if rec is None or not path.is_file():
            missing.append(str(i + 1))
            continue
        clips.append(ShotClip(i, shot, path, rec.content_hash, dict(rec.details or {}),
                              cached=shot.id not in (fresh or set())))
    if missing:
        raise UserInputError(f"shot{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                             "not rendered yet (render all shots first)")
    return clips


def export_active(store, board: Board, out_dir: str | Path, *, formats=FORMATS, scorer=None,
                  check_motion: bool = True, fresh: set[str] | None = None, progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> dict[str, Any]:
    """Export the board with each shot's active render (what the Storyboard tab shows)."""
    clips = active_clips(store, board, fresh)
    backends = {c.details.get("backend", "previz") for c in clips}
    return export_board(board, clips, out_dir, formats=formats,
                        backend=backends.pop() if len(backends) == 1 else "mixed", scorer=scorer,
                        check_motion=check_motion, progress=progress, should_stop=should_stop)
