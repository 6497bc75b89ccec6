"""Human labels (one per clip and annotator), machine pre-labels, and reviews.

Class keys are stored as given: checking them against the workspace's taxonomy scheme is the
use-case's job (`cinestudio.dataset`), since the store does not know the scheme. The store checks
structure: who, which clip, ordered movements, a reason for rejections, a full label to verify.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store._base import (
    NotFoundError,
    Repository,
    get_or_404,
    label_record,
    prelabel_record,
    require_text,
    review_record,
)
from cinestudio.store.audit import write_audit
from cinestudio.store.clips import change_stage
from cinestudio.store.records import LabelRecord, PrelabelRecord, PrelabelSpec, ReviewRecord


def _movements(movements: Iterable[str] | str | None) -> list[str]:
    if movements is None:
        return []
    if isinstance(movements, str):
        movements = [movements]
    return [require_text(mv, "movement") for mv in movements]


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _label_state(lab: m.Label) -> dict[str, Any]:
    return {"annotator": lab.annotator, "framing": lab.framing, "angle": lab.angle,
            "movements": lab.movements, "caption": lab.caption}


class LabelRepository(Repository):
    def set(self, clip_id: int, annotator: str, *, framing: str | None = None,
            angle: str | None = None, movements: Sequence[str] | str | None = None,
            caption: str | None = None, actor: str | None = None) -> LabelRecord:
        """Create or replace `annotator`'s label of a clip (all fields at once).

        Audited with before/after; a collected clip becomes annotated. Setting the same content
        again changes nothing and writes no audit row. `actor` defaults to the annotator.
        """
        annotator = require_text(annotator, "annotator")
        actor = actor or annotator
        new = {"framing": _optional(framing), "angle": _optional(angle),
               "movements": _movements(movements), "caption": _optional(caption)}
        with self._write() as s:
            clip = get_or_404(s, m.Clip, clip_id, "clip", lock=True)
            lab = s.scalar(select(m.Label).where(m.Label.clip_id == clip_id,
                                                 m.Label.annotator == annotator))
            if lab is None:
                lab = m.Label(clip_id=clip_id, annotator=annotator)
                s.add(lab)
                before = None
            else:
                before = {"clip_id": clip_id, **_label_state(lab)}
                if {k: before[k] for k in new} == new:
                    return label_record(lab)
            lab.framing, lab.angle, lab.caption = new["framing"], new["angle"], new["caption"]
            lab.updated_at = m.utcnow()
            if lab.movements != new["movements"]:
                lab.movement_rows.clear()
                s.flush()  # old rows go before new ones reuse their (label, position)
                lab.movement_rows.extend(m.LabelMovement(movement=mv) for mv in new["movements"])
            s.flush()
            write_audit(s, actor, "label", lab.id, "create" if before is None else "update",
                        before, {"clip_id": clip_id, **_label_state(lab)})
            if clip.stage == "collected":
                change_stage(s, clip, "annotated", actor)
            s.flush()
            return label_record(lab)

    def get(self, clip_id: int, annotator: str) -> LabelRecord | None:
        with self._read() as s:
            lab = s.scalar(select(m.Label).where(m.Label.clip_id == clip_id,
                                                 m.Label.annotator == annotator))
            return None if lab is None else label_record(lab)

    def for_clip(self, clip_id: int) -> builtins.list[LabelRecord]:
        with self._read() as s:
            return [label_record(lab) for lab in s.scalars(
                select(m.Label).where(m.Label.clip_id == clip_id).order_by(m.Label.id))]

    def delete(self, clip_id: int, annotator: str, *, actor: str | None = None) -> bool:
        """Remove a label (audited); an annotated clip left with no label goes back to collected."""
        actor = actor or annotator
        with self._write() as s:
            lab = s.scalar(select(m.Label).where(m.Label.clip_id == clip_id,
                                                 m.Label.annotator == annotator))
            if lab is None:
                return False
            clip = lab.clip
            write_audit(s, actor, "label", lab.id, "delete",
                        {"clip_id": clip_id, **_label_state(lab)}, None)
            s.delete(lab)
            s.flush()
            remaining = s.scalar(select(func.count()).select_from(m.Label)
                                 .where(m.Label.clip_id == clip_id))
            if not remaining and clip.stage == "annotated":
                change_stage(s, clip, "collected", actor)
            return True

    def annotators(self) -> builtins.list[str]:
        with self._read() as s:
            return builtins.list(s.scalars(select(m.Label.annotator).distinct()
                                           .order_by(m.Label.annotator)))

    def count(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(m.Label)) or 0


def _check_prelabel(sp: PrelabelSpec) -> None:
    require_text(sp.axis, "pre-label axis")
    require_text(sp.key, "pre-label key")
    if sp.confidence is not None and not 0.0 <= sp.confidence <= 1.0:
        raise UserInputError(f"{sp.axis}={sp.key}", f"confidence {sp.confidence} not in [0, 1]")


class PrelabelRepository(Repository):
    """Machine suggestions; not audited (they are regenerated, never edited by people)."""

    def replace(self, clip_id: int, origin: str, specs: Iterable[PrelabelSpec], *,
                model_id: str | None = None) -> builtins.list[PrelabelRecord]:
        """Replace every pre-label of `origin` on a clip by `specs` (e.g. a re-run of a model)."""
        origin = require_text(origin, "pre-label origin")
        specs = builtins.list(specs)
        for sp in specs:
            _check_prelabel(sp)
        with self._write() as s:
            get_or_404(s, m.Clip, clip_id, "clip", lock=True)
            s.execute(delete(m.Prelabel).where(m.Prelabel.clip_id == clip_id,
                                               m.Prelabel.origin == origin))
            rows = [m.Prelabel(clip_id=clip_id, axis=sp.axis, key=sp.key,
                               confidence=sp.confidence, origin=origin, model_id=model_id,
                               rank=sp.rank, details=sp.details) for sp in specs]
            s.add_all(rows)
            s.flush()
            return [prelabel_record(p) for p in rows]

    def replace_many(self, origin: str, per_clip: Mapping[int, Iterable[PrelabelSpec]], *,
                     model_id: str | None = None) -> int:
        """`replace` for many clips in one transaction (pre-labelling a whole workspace);
        returns the number of pre-labels written."""
        origin = require_text(origin, "pre-label origin")
        items = {cid: builtins.list(specs) for cid, specs in per_clip.items()}
        for specs in items.values():
            for sp in specs:
                _check_prelabel(sp)
        if not items:
            return 0
        with self._write() as s:
            clip_ids = builtins.list(items)
            known = set(s.scalars(select(m.Clip.id).where(m.Clip.id.in_(clip_ids))))
            missing = [cid for cid in clip_ids if cid not in known]
            if missing:
                raise NotFoundError(f"clip {missing[0]}", "no such clip in this workspace")
            s.execute(delete(m.Prelabel).where(m.Prelabel.clip_id.in_(clip_ids),
                                               m.Prelabel.origin == origin))
            rows = [m.Prelabel(clip_id=cid, axis=sp.axis, key=sp.key, confidence=sp.confidence,
                               origin=origin, model_id=model_id, rank=sp.rank, details=sp.details)
                    for cid, specs in items.items() for sp in specs]
            s.add_all(rows)
            return len(rows)

    def for_clip(self, clip_id: int, origin: str | None = None) -> builtins.list[PrelabelRecord]:
        query = select(m.Prelabel).where(m.Prelabel.clip_id == clip_id)
        if origin is not None:
            query = query.where(m.Prelabel.origin == origin)
        query = query.order_by(m.Prelabel.axis, m.Prelabel.rank, m.Prelabel.id)
        with self._read() as s:
            return [prelabel_record(p) for p in s.scalars(query)]

    def count(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(m.Prelabel)) or 0


class ReviewRepository(Repository):
    def add(self, clip_id: int, reviewer: str, decision: str, *, framing: str | None = None,
            angle: str | None = None, movements: Sequence[str] | str | None = None,
            caption: str | None = None, reason: str | None = None,
            label_id: int | None = None) -> ReviewRecord:
        """Record a review and move the clip: accept/fix -> verified, reject -> rejected.

        accept and fix carry the full verified label (framing, angle, one or more movements):
        the use-case fills it from the annotator's label and the fixes. reject needs a reason.
        Audited (the review, and the stage change) in the same transaction.
        """
        reviewer = require_text(reviewer, "reviewer")
        if decision not in m.DECISIONS:
            raise UserInputError(decision, f"unknown decision (expected one of "
                                           f"{', '.join(m.DECISIONS)})")
        moves = _movements(movements)
        framing, angle, caption, reason = (_optional(framing), _optional(angle),
                                           _optional(caption), _optional(reason))
        if decision == "reject":
            if reason is None:
                raise UserInputError(f"clip {clip_id}", "a rejection needs a reason")
        elif framing is None or angle is None or not moves:
            raise UserInputError(f"clip {clip_id}",
                                 f"{decision} needs the full verified label: framing, angle "
                                 f"and at least one movement")
        with self._write() as s:
            clip = get_or_404(s, m.Clip, clip_id, "clip", lock=True)
            if label_id is not None:
                lab = get_or_404(s, m.Label, label_id, "label", lock=True)
                if lab.clip_id != clip_id:
                    raise UserInputError(f"label {label_id}", f"is not a label of clip {clip_id}")
            before = _verified_state(s, clip)
            review = m.Review(clip_id=clip_id, reviewer=reviewer, decision=decision,
                              reason=reason, framing=framing, angle=angle, caption=caption,
                              label_id=label_id)
            review.movement_rows.extend(m.ReviewMovement(movement=mv) for mv in moves)
            s.add(review)
            s.flush()
            write_audit(s, reviewer, "review", review.id, "create", before,
                        {"clip_id": clip_id, "decision": decision, "reason": reason,
                         "framing": framing, "angle": angle, "movements": moves,
                         "caption": caption, "label_id": label_id})
            change_stage(s, clip, "rejected" if decision == "reject" else "verified", reviewer,
                         reason)
            s.flush()
            return review_record(review)

    def for_clip(self, clip_id: int) -> builtins.list[ReviewRecord]:
        with self._read() as s:
            return [review_record(r) for r in s.scalars(
                select(m.Review).where(m.Review.clip_id == clip_id).order_by(m.Review.id))]

    def latest(self, clip_id: int) -> ReviewRecord | None:
        with self._read() as s:
            r = s.scalar(select(m.Review).where(m.Review.clip_id == clip_id)
                         .order_by(m.Review.id.desc()).limit(1))
            return None if r is None else review_record(r)

    def count(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(m.Review)) or 0


def _verified_state(s: Session, clip: m.Clip) -> dict[str, Any] | None:
    """The clip's stage and latest review outcome: the "before" of a new review."""
    prev = s.scalar(select(m.Review).where(m.Review.clip_id == clip.id)
                    .order_by(m.Review.id.desc()).limit(1))
    if prev is None:
        return {"stage": clip.stage}
    return {"stage": clip.stage, "review_id": prev.id, "decision": prev.decision,
            "framing": prev.framing, "angle": prev.angle, "movements": prev.movements,
            "caption": prev.caption}
