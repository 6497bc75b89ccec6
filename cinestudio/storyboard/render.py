"""Rendering a board: plan, render what the cache lacks with a backend, export.

    cache = RenderCache(workspace / "media/storyboards/renders")
    result = render_board(board, "previz", out_dir, cache=cache, progress=bar)

A backend renders the plan's missing items into the cache (`Backend.render_items`):
`PrevizBackend` in this process, one shot after another; the diffusion backend
(`cinestudio.storyboard.diffusion.DiffusionBackend`) as one job per shot in the job queue.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.storyboard.cache import CachedRender, RenderCache
from cinestudio.storyboard.export import FORMATS, Scorer, ShotClip, export_board
from cinestudio.storyboard.model import BACKENDS, Board
from cinestudio.storyboard.plan import PlanItem, RenderPlan, plan_render
from cinestudio.storyboard.previz import render_previz
from cinestudio.storyboard.validate import check_board


class Backend(Protocol):
    name: str

    def render_items(self, board: Board, items: list[PlanItem], cache: RenderCache, *,
                     progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> dict[str, CachedRender]:
        """Render `items` into `cache`; return {content hash: entry}."""


class PrevizBackend:
    name = "previz"

    def render_items(self, board: Board, items: list[PlanItem], cache: RenderCache, *,
                     progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> dict[str, CachedRender]:
        total = sum(it.frames for it in items) or 1
        done = 0
        out: dict[str, CachedRender] = {}
        for it in items:
            check_stop(should_stop)
            t0 = time.monotonic()
            base = done

            def sub(d: int, t: int, m: str = "", _base=base, _it=it) -> None:
                if progress is not None:
                    progress(_base + d, total, f"shot {_it.index + 1}: {m}".strip(": "))

            result = render_previz(board, it.shot, progress=sub, should_stop=should_stop)
            details = {**result.details, "render_seconds": round(time.monotonic() - t0, 3)}
            out[it.content_hash] = cache.put(it.content_hash, result.frames, board.fps, details)
            done += it.frames
            if progress is not None:
                progress(done, total, f"shot {it.index + 1} rendered")
        return out


def get_backend(name: str, **options: Any) -> Backend:
    if name == "previz":
        return PrevizBackend()
    if name == "diffusion":
        from cinestudio.storyboard.diffusion import DiffusionBackend

        return DiffusionBackend(**options)
    raise UserInputError(name, f"unknown backend (expected {' or '.join(BACKENDS)})")


def render_plan(plan: RenderPlan, cache: RenderCache, backend: Backend | None = None, *,
                progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> list[ShotClip]:
    """Render the plan's missing shots; one `ShotClip` per planned shot, in board order."""
    backend = backend or get_backend(plan.backend)
    todo = plan.todo
    fresh = backend.render_items(plan.board, todo, cache, progress=progress, should_stop=should_stop) if todo else {}
    clips = []
    for it in plan.items:
        entry = it.cached or fresh.get(it.content_hash) or cache.get(it.content_hash)
        if entry is None:
            raise UserInputError(f"shot {it.index + 1}", "the backend returned no render")
        clips.append(ShotClip(it.index, it.shot, entry.clip, it.content_hash, dict(entry.details),
                              cached=it.cached is not None))
    return clips


def render_board(board: Board, backend: str, out_dir: str | Path, *, cache: RenderCache | None = None,
                 backend_impl: Backend | None = None, formats=FORMATS, scorer: Scorer | None = None,
                 check_motion: bool = True, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> dict[str, Any]:
    """Validate, plan, render the missing shots and export; return the sidecar document.

    `cache` defaults to ``OUT_DIR/cache``. Progress runs over rendering (0–80 %) and export."""
    warnings = check_board(board, backend=backend)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError(out, "exists and is not a folder")
    cache = cache or RenderCache(out / "cache")
    plan = plan_render(board, backend, cache)
    report = progress or (lambda d, t, m="": None)
    t0 = time.monotonic()

    def rendering(d: int, t: int, m: str = "") -> None:
        report(int(80 * d / t) if t else 0, 100, m)

    def exporting(d: int, t: int, m: str = "") -> None:
        report(80 + (int(20 * d / t) if t else 0), 100, m)

    clips = render_plan(plan, cache, backend_impl, progress=rendering, should_stop=should_stop)
    render_s = time.monotonic() - t0
    sidecar = export_board(board, clips, out, formats=formats, backend=backend, scorer=scorer,
                           check_motion=check_motion, progress=exporting, should_stop=should_stop,
                           extra={"rendered": len(plan.todo), "from_cache": len(plan.items) - len(plan.todo),
                                  "render_seconds": round(render_s, 3),
                                  "warnings": [w.message for w in warnings]})
    report(100, 100, "done")
    return sidecar
