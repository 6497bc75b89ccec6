"""Clips: shots as frame ranges of a source, and the stage each one is at."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store._base import NotFoundError, Repository, clip_record, get_or_404
from cinestudio.store.audit import write_audit
from cinestudio.store.records import ClipFilter, ClipRecord, ClipSpec

_DETAILS = (
    selectinload(m.Clip.labels).selectinload(m.Label.movement_rows),
    selectinload(m.Clip.prelabels),
    selectinload(m.Clip.reviews).selectinload(m.Review.movement_rows),
)


def check_stage(stage: str) -> str:
    if stage not in m.STAGES:
        raise UserInputError(stage, f"unknown stage (expected one of {', '.join(m.STAGES)})")
    return stage


def change_stage(session: Session, clip: m.Clip, stage: str, actor: str,
                 reason: str | None = None) -> bool:
    """Move `clip` to `stage` with an audit row; False when it was already there."""
    check_stage(stage)
    if clip.stage == stage:
        return False
    after: dict[str, Any] = {"stage": stage}
    if reason:
        after["reason"] = reason
    write_audit(session, actor, "clip", clip.id, "stage", {"stage": clip.stage}, after)
    clip.stage = stage
    return True


def _apply_filter(query: Select[Any], f: ClipFilter) -> Select[Any]:
    if f.stage is not None:
        stages = (f.stage,) if isinstance(f.stage, str) else tuple(f.stage)
        for st in stages:
            check_stage(st)
        query = query.where(m.Clip.stage.in_(stages))
    if f.source_id is not None:
        query = query.where(m.Clip.source_id == f.source_id)
    if f.ids is not None:
        query = query.where(m.Clip.id.in_(tuple(f.ids)))
    if f.annotator is not None:
        query = query.where(exists().where(m.Label.clip_id == m.Clip.id,
                                           m.Label.annotator == f.annotator))
    if f.unlabelled_by is not None:
        query = query.where(~exists().where(m.Label.clip_id == m.Clip.id,
                                            m.Label.annotator == f.unlabelled_by))
    if f.label_key is not None:
        key = f.label_key
        moves = (select(m.LabelMovement.label_id)
                 .where(m.LabelMovement.movement == key))
        query = query.where(exists().where(
            m.Label.clip_id == m.Clip.id,
            or_(m.Label.framing == key, m.Label.angle == key, m.Label.id.in_(moves))))
    if any(v is not None for v in (f.prelabel_key, f.prelabel_axis, f.min_confidence,
                                   f.max_confidence)):
        cond = [m.Prelabel.clip_id == m.Clip.id]
        if f.prelabel_key is not None:
            cond.append(m.Prelabel.key == f.prelabel_key)
        if f.prelabel_axis is not None:
            cond.append(m.Prelabel.axis == f.prelabel_axis)
        if f.min_confidence is not None:
            cond.append(m.Prelabel.confidence >= f.min_confidence)
        if f.max_confidence is not None:
            cond.append(m.Prelabel.confidence <= f.max_confidence)
        query = query.where(exists().where(*cond))
    if f.prelabels_disagree is not None:
        first, other = aliased(m.Prelabel), aliased(m.Prelabel)
        clash = exists().where(first.clip_id == m.Clip.id, other.clip_id == m.Clip.id, first.axis == other.axis,
                               first.origin < other.origin, first.rank == 0, other.rank == 0,
                               first.key != other.key)
        query = query.where(clash if f.prelabels_disagree else ~clash)
    if f.min_annotators is not None:
        n_labels = (select(func.count()).select_from(m.Label)
                    .where(m.Label.clip_id == m.Clip.id).scalar_subquery())
        query = query.where(n_labels >= f.min_annotators)
    return query


def _filter(where: ClipFilter | None, kwargs: dict[str, Any]) -> ClipFilter:
    if where is not None and kwargs:
        raise TypeError("pass either a ClipFilter or keyword filters, not both")
    return where if where is not None else ClipFilter(**kwargs)


class ClipRepository(Repository):
    def add_many(self, source_id: int, specs: Iterable[ClipSpec | tuple[int, int]], *,
                 actor: str = "import") -> builtins.list[ClipRecord]:
        """Store shots of a source (stage ``collected``), in the order given.

        Idempotent: a range the source already has is returned as it is, not added again.
        """
        specs = [sp if isinstance(sp, ClipSpec) else ClipSpec(*sp) for sp in specs]
        for sp in specs:
            if sp.start_frame < 0 or sp.end_frame <= sp.start_frame:
                raise UserInputError(f"[{sp.start_frame}, {sp.end_frame})",
                                     "a clip needs 0 <= start_frame < end_frame")
        with self._write() as s:
            get_or_404(s, m.Source, source_id, "source", lock=True)
            existing = {(c.start_frame, c.end_frame): c for c in s.scalars(
                select(m.Clip).where(m.Clip.source_id == source_id))}
            out: list[m.Clip] = []
            new: list[m.Clip] = []
            for sp in specs:
                clip = existing.get((sp.start_frame, sp.end_frame))
                if clip is None:
                    clip = m.Clip(source_id=source_id, start_frame=sp.start_frame,
                                  end_frame=sp.end_frame, thumbnail_path=sp.thumbnail_path,
                                  stage="collected")
                    s.add(clip)
                    existing[(sp.start_frame, sp.end_frame)] = clip
                    new.append(clip)
                out.append(clip)
            s.flush()
            for clip in new:
                write_audit(s, actor, "clip", clip.id, "create", None,
                            {"source_id": source_id, "start_frame": clip.start_frame,
                             "end_frame": clip.end_frame, "stage": clip.stage})
            s.flush()
            return [clip_record(c) for c in out]

    def get(self, clip_id: int) -> ClipRecord:
        """The clip with its labels, pre-labels and latest review."""
        with self._read() as s:
            clip = s.scalar(select(m.Clip).where(m.Clip.id == clip_id).options(*_DETAILS))
            if clip is None:
                raise NotFoundError(f"clip {clip_id}", "no such clip in this workspace")
            return clip_record(clip, details=True)

    def find(self, where: ClipFilter | None = None, *, limit: int | None = None,
             offset: int = 0, details: bool = True, **filters: Any) -> builtins.list[ClipRecord]:
        """Clips matching a filter (a `ClipFilter` or its fields as keywords), by id.

        With `details` each record carries its labels, pre-labels and latest review (three
        extra queries per call, not per clip); without, only the clip's own columns.
        """
        query = _apply_filter(select(m.Clip), _filter(where, filters))
        query = query.order_by(m.Clip.id).offset(offset).limit(limit)
        if details:
            query = query.options(*_DETAILS)
        with self._read() as s:
            return [clip_record(c, details=details) for c in s.scalars(query)]

    def ids(self, where: ClipFilter | None = None, **filters: Any) -> builtins.list[int]:
        """Ids of the matching clips, in order: cheap enough for 100,000 rows (lazy views)."""
        query = _apply_filter(select(m.Clip.id), _filter(where, filters)).order_by(m.Clip.id)
        with self._read() as s:
            return builtins.list(s.scalars(query))

    def get_many(self, clip_ids: Sequence[int]) -> builtins.list[ClipRecord]:
        """Records (with details) for these ids, in the order given; unknown ids are skipped."""
        if not clip_ids:
            return []
        by_id = {c.id: c for c in self.find(ClipFilter(ids=tuple(clip_ids)))}
        return [by_id[i] for i in clip_ids if i in by_id]

    def count(self, where: ClipFilter | None = None, **filters: Any) -> int:
        query = _apply_filter(select(func.count(m.Clip.id)), _filter(where, filters))
        with self._read() as s:
            return s.scalar(query) or 0

    def count_by_stage(self) -> dict[str, int]:
        with self._read() as s:
            counts = dict(s.execute(select(m.Clip.stage, func.count()).group_by(m.Clip.stage)).all())
        return {stage: counts.get(stage, 0) for stage in m.STAGES}

    def set_stage(self, clip_id: int, stage: str, *, actor: str,
                  reason: str | None = None) -> ClipRecord:
        with self._write() as s:
            clip = get_or_404(s, m.Clip, clip_id, "clip", lock=True)
            change_stage(s, clip, stage, actor, reason)
            s.flush()
            return clip_record(clip)

    def set_thumbnail(self, clip_id: int, thumbnail_path: str | None) -> ClipRecord:
        with self._write() as s:
            clip = get_or_404(s, m.Clip, clip_id, "clip", lock=True)
            clip.thumbnail_path = thumbnail_path
            s.flush()
            return clip_record(clip)
