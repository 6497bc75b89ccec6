"""Storyboards: boards, their ordered shots, and each shot's render history.

    board = store.storyboards.create("Chase", fps=12, width=320, height=180, scheme="cinematic2k")
    store.storyboards.save(board.id, shots=[{"uid": "s1a2b3c4", "framing": "long_shot", ...}])
    r = store.storyboards.add_render(board.id, "s1a2b3c4", backend="previz", content_hash=h,
                                     clip_path="media/storyboards/renders/ab/ab….mp4", frames=24, ...)
    store.storyboards.set_active(board.id, "s1a2b3c4", older.id)     # revert to an older render

Shots are saved as a whole list (the board is edited as one document, with undo); a shot is
known by its ``uid``, which outlives re-saves, reorders and export/import, so its renders
(keyed by board and uid) and its active render follow it. Records are frozen dataclasses.
The storyboard use-cases (`cinestudio.storyboard.service`) turn these into `Board` objects.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store._base import Repository, get_or_404, require_text
from cinestudio.store.audit import write_audit
from cinestudio.store.records import _Record

SHOT_FIELDS = ("uid", "title", "prompt", "framing", "angle", "movements", "duration", "duration_unit",
               "seed", "reference_image", "loras", "notes")
HEADER_FIELDS = ("name", "fps", "width", "height", "scheme", "previz", "diffusion", "notes")


@dataclass(frozen=True)
class StoryboardRecord(_Record):
    id: int
    name: str
    fps: float
    width: int
    height: int
    scheme: str
    previz: dict[str, Any] | None
    diffusion: dict[str, Any] | None
    notes: str | None
    shot_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoryboardShotRecord(_Record):
    uid: str
    position: int
    title: str
    prompt: str
    framing: str
    angle: str
    movements: tuple[str, ...]
    duration: float
    duration_unit: str
    seed: int
    reference_image: str | None
    loras: dict[str, float] | None
    notes: str | None
    active_render_id: int | None


@dataclass(frozen=True)
class RenderRecord(_Record):
    id: int
    storyboard_id: int
    shot_uid: str
    backend: str
    content_hash: str
    clip_path: str
    thumbnail_path: str | None
    frames: int
    width: int
    height: int
    fps: float
    kept: bool
    inputs: dict[str, Any] | None
    details: dict[str, Any] | None
    job_id: int | None
    created_at: datetime


def _board_record(b: m.Storyboard, shot_count: int) -> StoryboardRecord:
    return StoryboardRecord(id=b.id, name=b.name, fps=b.fps, width=b.width, height=b.height, scheme=b.scheme,
                            previz=b.previz, diffusion=b.diffusion, notes=b.notes, shot_count=shot_count,
                            created_at=b.created_at, updated_at=b.updated_at)


def _shot_record(s: m.StoryboardShot) -> StoryboardShotRecord:
    return StoryboardShotRecord(uid=s.uid, position=s.position, title=s.title, prompt=s.prompt,
                                framing=s.framing, angle=s.angle, movements=tuple(s.movements or ()),
                                duration=s.duration, duration_unit=s.duration_unit, seed=int(s.seed),
                                reference_image=s.reference_image, loras=s.loras, notes=s.notes,
                                active_render_id=s.active_render_id)


def _render_record(r: m.StoryboardRender) -> RenderRecord:
    return RenderRecord(id=r.id, storyboard_id=r.storyboard_id, shot_uid=r.shot_uid, backend=r.backend,
                        content_hash=r.content_hash, clip_path=r.clip_path, thumbnail_path=r.thumbnail_path,
                        frames=r.frames, width=r.width, height=r.height, fps=r.fps, kept=bool(r.kept),
                        inputs=r.inputs, details=r.details, job_id=r.job_id, created_at=r.created_at)


class StoryboardRepository(Repository):
    # -- boards --------------------------------------------------------------------------------

    def create(self, name: str, *, fps: float, width: int, height: int, scheme: str,
               previz: dict | None = None, diffusion: dict | None = None, notes: str | None = None,
               shots: builtins.list[dict[str, Any]] | None = None, actor: str = "system") -> StoryboardRecord:
        name = require_text(name, "storyboard name")
        with self._write() as s:
            if s.scalar(select(m.Storyboard.id).where(m.Storyboard.name == name)) is not None:
                raise UserInputError(name, "a storyboard with this name exists already")
            board = m.Storyboard(name=name, fps=float(fps), width=int(width), height=int(height),
                                 scheme=scheme, previz=previz or None, diffusion=diffusion or None, notes=notes)
            s.add(board)
            try:
                s.flush()
            except IntegrityError:
                raise UserInputError(name, "a storyboard with this name exists already") from None
            if shots:
                self._replace_shots(s, board.id, shots)
            write_audit(s, actor, "storyboard", board.id, "create", None, {"name": name})
            return _board_record(board, len(shots or ()))

    def list(self) -> builtins.list[StoryboardRecord]:
        counts = (select(m.StoryboardShot.storyboard_id, func.count().label("n"))
                  .group_by(m.StoryboardShot.storyboard_id).subquery())
        query = (select(m.Storyboard, func.coalesce(counts.c.n, 0))
                 .outerjoin(counts, counts.c.storyboard_id == m.Storyboard.id)
                 .order_by(m.Storyboard.name))
        with self._read() as s:
            return [_board_record(b, int(n)) for b, n in s.execute(query).all()]

    def count(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(m.Storyboard)) or 0)

    def get(self, board_id: int) -> StoryboardRecord:
        with self._read() as s:
            b = get_or_404(s, m.Storyboard, board_id, "storyboard")
            return _board_record(b, self._count_shots(s, b.id))

    def find(self, name: str) -> StoryboardRecord | None:
        with self._read() as s:
            b = s.scalar(select(m.Storyboard).where(m.Storyboard.name == name))
            return None if b is None else _board_record(b, self._count_shots(s, b.id))

    def shots(self, board_id: int) -> builtins.list[StoryboardShotRecord]:
        with self._read() as s:
            get_or_404(s, m.Storyboard, board_id, "storyboard")
            rows = s.scalars(select(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id)
                             .order_by(m.StoryboardShot.position))
            return [_shot_record(r) for r in rows]

    def save(self, board_id: int, *, shots: builtins.list[dict[str, Any]] | None = None,
             **header: Any) -> StoryboardRecord:
        """Update header fields (name, fps, width, height, scheme, previz, diffusion, notes) and,
        when `shots` is given, replace the shot list (active renders follow the uids)."""
        unknown = set(header) - set(HEADER_FIELDS)
        if unknown:
            raise TypeError(f"unknown storyboard fields {sorted(unknown)}")
        with self._write() as s:
            b = get_or_404(s, m.Storyboard, board_id, "storyboard", lock=True)
            if "name" in header:
                name = require_text(header["name"], "storyboard name")
                other = s.scalar(select(m.Storyboard.id).where(m.Storyboard.name == name, m.Storyboard.id != b.id))
                if other is not None:
                    raise UserInputError(name, "a storyboard with this name exists already")
                b.name = name
            for key in ("fps", "width", "height", "scheme", "previz", "diffusion", "notes"):
                if key in header:
                    setattr(b, key, header[key])
            if shots is not None:
                self._replace_shots(s, b.id, shots)
            b.updated_at = m.utcnow()
            s.flush()
            return _board_record(b, self._count_shots(s, b.id))

    def delete(self, board_id: int, *, actor: str = "system") -> bool:
        with self._write() as s:
            b = s.get(m.Storyboard, board_id)
            if b is None:
                return False
            write_audit(s, actor, "storyboard", board_id, "delete", {"name": b.name}, None)
            s.execute(delete(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id))
            s.execute(delete(m.StoryboardRender).where(m.StoryboardRender.storyboard_id == board_id))
            s.delete(b)
            return True

    @staticmethod
    def _count_shots(s, board_id: int) -> int:
        return int(s.scalar(select(func.count()).select_from(m.StoryboardShot)
                            .where(m.StoryboardShot.storyboard_id == board_id)) or 0)

    @staticmethod
    def _replace_shots(s, board_id: int, shots: builtins.list[dict[str, Any]]) -> None:
        old = {r.uid: r.active_render_id for r in
               s.scalars(select(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id))}
        uids = [str(sh.get("uid") or "") for sh in shots]
        if any(not u for u in uids) or len(set(uids)) != len(uids):
            raise UserInputError("shots", "every shot needs a uid, and uids must differ")
        latest: dict[str, int] = {}     # a shot that comes back (undo of a delete) gets its last render
        valid_renders: set[int] = set()
        for rid, uid in s.execute(select(m.StoryboardRender.id, m.StoryboardRender.shot_uid)
                                  .where(m.StoryboardRender.storyboard_id == board_id)
                                  .order_by(m.StoryboardRender.id)):
            latest[uid] = rid
            valid_renders.add(rid)
        s.execute(delete(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id))
        s.flush()
        for pos, sh in enumerate(shots):
            unknown = set(sh) - set(SHOT_FIELDS) - {"active_render_id"}
            if unknown:
                raise TypeError(f"unknown shot fields {sorted(unknown)}")
            uid = str(sh["uid"])
            active = sh["active_render_id"] if "active_render_id" in sh else (
                old[uid] if uid in old else latest.get(uid))
            s.add(m.StoryboardShot(
                storyboard_id=board_id, position=pos, uid=str(sh["uid"]), title=sh.get("title") or "",
                prompt=sh.get("prompt") or "", framing=sh.get("framing") or "", angle=sh.get("angle") or "",
                movements=list(sh.get("movements") or []), duration=float(sh.get("duration", 0)),
                duration_unit=sh.get("duration_unit", "seconds"), seed=int(sh.get("seed", 0)),
                reference_image=sh.get("reference_image") or None, loras=sh.get("loras") or None,
                notes=sh.get("notes") or None,
                active_render_id=active if active in valid_renders else None))
        s.flush()

    # -- renders -------------------------------------------------------------------------------

    def add_render(self, board_id: int, shot_uid: str, *, backend: str, content_hash: str, clip_path: str,
                   frames: int, width: int, height: int, fps: float, thumbnail_path: str | None = None,
                   inputs: dict | None = None, details: dict | None = None, job_id: int | None = None,
                   activate: bool = True) -> RenderRecord:
        """Record a render of a shot (a render with the same content hash is reused, not
        duplicated) and, with `activate`, make it the shot's active render."""
        if backend not in m.RENDER_BACKENDS:
            raise UserInputError(backend, f"unknown backend (expected {', '.join(m.RENDER_BACKENDS)})")
        with self._write() as s:
            get_or_404(s, m.Storyboard, board_id, "storyboard")
            row = s.scalar(select(m.StoryboardRender).where(
                m.StoryboardRender.storyboard_id == board_id, m.StoryboardRender.shot_uid == shot_uid,
                m.StoryboardRender.content_hash == content_hash))
            if row is None:
                row = m.StoryboardRender(
                    storyboard_id=board_id, shot_uid=shot_uid, backend=backend, content_hash=content_hash,
                    clip_path=clip_path, thumbnail_path=thumbnail_path, frames=int(frames), width=int(width),
                    height=int(height), fps=float(fps), kept=False, inputs=inputs, details=details,
                    job_id=job_id)
                s.add(row)
                s.flush()
            else:
                row.clip_path, row.thumbnail_path = clip_path, thumbnail_path
                if details is not None:
                    row.details = details
            if activate:
                shot = s.scalar(select(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id,
                                                               m.StoryboardShot.uid == shot_uid))
                if shot is not None:
                    shot.active_render_id = row.id
            s.flush()
            return _render_record(row)

    def renders(self, board_id: int, shot_uid: str | None = None) -> builtins.list[RenderRecord]:
        """Renders of a board (or of one shot), newest first."""
        query = select(m.StoryboardRender).where(m.StoryboardRender.storyboard_id == board_id)
        if shot_uid is not None:
            query = query.where(m.StoryboardRender.shot_uid == shot_uid)
        with self._read() as s:
            return [_render_record(r) for r in s.scalars(query.order_by(m.StoryboardRender.id.desc()))]

    def render(self, render_id: int) -> RenderRecord:
        with self._read() as s:
            return _render_record(get_or_404(s, m.StoryboardRender, render_id, "render"))

    def active_renders(self, board_id: int) -> dict[str, RenderRecord]:
        """{shot uid: its active render} for the shots that have one."""
        query = (select(m.StoryboardShot.uid, m.StoryboardRender)
                 .join(m.StoryboardRender, m.StoryboardRender.id == m.StoryboardShot.active_render_id)
                 .where(m.StoryboardShot.storyboard_id == board_id))
        with self._read() as s:
            return {uid: _render_record(r) for uid, r in s.execute(query).all()}

    def set_active(self, board_id: int, shot_uid: str, render_id: int | None) -> None:
        with self._write() as s:
            shot = s.scalar(select(m.StoryboardShot).where(m.StoryboardShot.storyboard_id == board_id,
                                                           m.StoryboardShot.uid == shot_uid))
            if shot is None:
                raise UserInputError(shot_uid, "no such shot in this storyboard")
            if render_id is not None:
                r = get_or_404(s, m.StoryboardRender, render_id, "render")
                if r.storyboard_id != board_id or r.shot_uid != shot_uid:
                    raise UserInputError(f"render {render_id}", "belongs to another shot")
            shot.active_render_id = render_id

    def set_kept(self, render_id: int, kept: bool = True) -> RenderRecord:
        with self._write() as s:
            r = get_or_404(s, m.StoryboardRender, render_id, "render")
            r.kept = bool(kept)
            s.flush()
            return _render_record(r)

    def prune(self, board_id: int, shot_uid: str, keep_last: int = 12) -> int:
        """Forget all but the newest `keep_last` renders of a shot, never kept or active ones."""
        with self._write() as s:
            active = s.scalar(select(m.StoryboardShot.active_render_id).where(
                m.StoryboardShot.storyboard_id == board_id, m.StoryboardShot.uid == shot_uid))
            rows = list(s.scalars(select(m.StoryboardRender).where(
                m.StoryboardRender.storyboard_id == board_id, m.StoryboardRender.shot_uid == shot_uid)
                .order_by(m.StoryboardRender.id.desc())))
            gone = [r for r in rows[keep_last:] if not r.kept and r.id != active]
            for r in gone:
                s.delete(r)
            return len(gone)


__all__ = ["RenderRecord", "StoryboardRecord", "StoryboardRepository", "StoryboardShotRecord"]
