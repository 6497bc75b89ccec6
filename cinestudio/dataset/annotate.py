"""Stage 2, annotate: human labels per clip and annotator, keys checked against the scheme.

Several annotators may label one clip; each keeps their own label (setting it again replaces
it). A clip's first label moves it from ``collected`` to ``annotated``. Every change is audited by
the store (who, when, before, after).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cinestudio.dataset.scheme import check_key, check_movements, workspace_taxonomy
from cinestudio.store import ClipFilter, ClipRecord, LabelRecord, SourceRecord, WorkspaceStore
from cinestudio.taxonomy import Taxonomy


def annotate_clip(store: WorkspaceStore, clip_id: int, annotator: str, *,
                  framing: str | None = None, angle: str | None = None,
                  movements: Sequence[str] | str | None = None, caption: str | None = None,
                  taxonomy: Taxonomy | None = None) -> LabelRecord:
    """Create or replace `annotator`'s label of a clip; returns the stored label.

    Keys are checked against the workspace's scheme (`UnknownClassError`, a UserInputError,
    names the bad key); `movements` are kept in the order given (e.g. pan_left then zoom_in).
    Any axis may be left None (a partial label, e.g. autosave while labelling). Raises
    `NotFoundError` for an unknown clip.
    """
    tax = taxonomy or workspace_taxonomy(store)
    return store.labels.set(clip_id, annotator, framing=check_key(tax, "framing", framing),
                            angle=check_key(tax, "angle", angle),
                            movements=check_movements(tax, movements), caption=caption)


def remove_label(store: WorkspaceStore, clip_id: int, annotator: str,
                 actor: str | None = None) -> bool:
    """Delete `annotator`'s label of a clip (audited); False when there was none."""
    return store.labels.delete(clip_id, annotator, actor=actor)


def list_clips(store: WorkspaceStore, where: ClipFilter | None = None, *, limit: int | None = None,
               offset: int = 0, **filters: Any) -> list[ClipRecord]:
    """Clips with their labels, pre-labels and latest review (a `ClipFilter`, or its fields as
    keywords: ``stage="annotated"``, ``annotator="ana"``, ...), in id order."""
    return store.clips.find(where, limit=limit, offset=offset, **filters)


def label_dict(label: Any) -> dict[str, Any]:
    """A label or review as JSON: framing, angle, movement (ordered list), caption."""
    return {"framing": label.framing, "angle": label.angle, "movement": list(label.movements),
            "caption": label.caption}


def clip_dict(clip: ClipRecord, source: SourceRecord | None = None) -> dict[str, Any]:
    """A clip with its labels, pre-labels and verified label, JSON-ready (`cinestudio clips`)."""
    out: dict[str, Any] = {
        "id": clip.id, "stage": clip.stage, "source_id": clip.source_id,
        "start": clip.start_frame, "end": clip.end_frame, "frames": clip.frame_count,
        "thumbnail": clip.thumbnail_path,
    }
    if source is not None:
        out["source"] = source.path
        out["fps"] = source.fps
    out["labels"] = [{"annotator": lab.annotator, **label_dict(lab),
                      "updated_at": lab.updated_at.isoformat()} for lab in clip.labels]
    out["prelabels"] = [{"origin": p.origin, "axis": p.axis, "key": p.key,
                         "confidence": p.confidence, "rank": p.rank} for p in clip.prelabels]
    review = clip.review
    out["review"] = None if review is None else {
        "reviewer": review.reviewer, "decision": review.decision, "reason": review.reason,
        **label_dict(review), "at": review.created_at.isoformat()}
    return out
