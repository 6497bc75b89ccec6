"""What the Annotate tab asks of the workspace, as plain functions run in worker threads.

A thin adapter over the store and the dataset use-cases: the widgets never touch the store
themselves and never call these on the UI thread (they go through `TaskRunner`). Every method
returns frozen values (store records, `ClipRow`, dicts) that cross threads safely, and the
writing ones return the rows they changed, so views refresh exactly those.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.dataset import annotate as annotate_uc
from cinestudio.dataset import collect as collect_uc
from cinestudio.dataset import stats as stats_uc
from cinestudio.dataset import verify as verify_uc
from cinestudio.dataset.scheme import workspace_taxonomy
from cinestudio.progress import ProgressFn, StopFn
from cinestudio.store import ClipFilter, ClipRecord, LabelRecord, WorkspaceStore, open_workspace
from cinestudio.taxonomy import Taxonomy


@dataclass(frozen=True)
class LabelState:
    """One annotator's label of a clip as the pickers hold it (any axis may be unset)."""

    framing: str | None = None
    angle: str | None = None
    movements: tuple[str, ...] = ()
    caption: str | None = None

    @classmethod
    def of(cls, record: Any | None) -> LabelState:
        """From a LabelRecord or ReviewRecord (None: the empty label)."""
        if record is None:
            return cls()
        return cls(record.framing, record.angle, tuple(record.movements), record.caption)

    @property
    def empty(self) -> bool:
        return self.framing is None and self.angle is None and not self.movements and not self.caption

    @property
    def complete(self) -> bool:
        return self.framing is not None and self.angle is not None and bool(self.movements)

    def key_for(self, axis: str) -> Any:
        return {"framing": self.framing, "angle": self.angle, "movement": self.movements}[axis]

    def summary(self, taxonomy: Taxonomy | None = None) -> str:
        def name(axis: str, key: str) -> str:
            if taxonomy is None:
                return key
            try:
                return taxonomy.get(axis, key).label
            except Exception:
                return key
        parts = [name("framing", self.framing) if self.framing else "—",
                 name("angle", self.angle) if self.angle else "—",
                 " → ".join(name("movement", mv) for mv in self.movements) or "—"]
        return " · ".join(parts)


@dataclass(frozen=True)
class Suggestion:
    """The best pre-label of one axis (for movement: the ordered keys of the best origin), and
    what the other origins say where their first choice differs (`dissent`: (origin, keys,
    confidence), most confident first; the test of the clip list's "Disagree" filter, so the
    warning shows on exactly the clips it finds). Pre-labellers that disagree mark a clip worth a
    careful look: CameraCLIP and the motion estimator each fail in their own way (e.g. a still
    camera on a walking subject, which CameraCLIP tends to call a tracking shot; see
    docs/cameraclip.md)."""

    axis: str
    keys: tuple[str, ...]
    confidence: float | None
    origin: str
    dissent: tuple[tuple[str, tuple[str, ...], float | None], ...] = ()


@dataclass(frozen=True)
class ClipRow:
    """A clip as the list and the label panel show it."""

    clip: ClipRecord
    source_name: str
    source_path: str
    fps: float | None
    width: int | None = None
    height: int | None = None
    suggestions: dict[str, Suggestion] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.clip.id

    @property
    def stage(self) -> str:
        return self.clip.stage

    @property
    def frames(self) -> int:
        return self.clip.frame_count

    @property
    def duration_s(self) -> float | None:
        return self.frames / self.fps if self.fps else None

    def label_of(self, annotator: str) -> LabelRecord | None:
        return self.clip.label_by(annotator)

    @property
    def annotators(self) -> tuple[str, ...]:
        return tuple(lab.annotator for lab in self.clip.labels)

    @property
    def disagreement(self) -> tuple[str, ...]:
        """The axes on which this clip's annotators disagree (empty with fewer than two)."""
        return verify_uc.disagreements(self.clip)

    def resolved_label(self) -> LabelState:
        """What the annotators' labels amount to (per axis the majority; ties left unset)."""
        if not self.clip.labels:
            return LabelState()
        r = verify_uc.resolve_labels(self.clip.labels)
        return LabelState(r.framing, r.angle, tuple(r.movements), r.caption)

    def verified_label(self) -> LabelState | None:
        review = self.clip.review
        if review is None or review.decision == "reject":
            return None
        return LabelState.of(review)

    @property
    def suggested_label(self) -> LabelState:
        s = self.suggestions
        return LabelState(framing=s["framing"].keys[0] if "framing" in s else None,
                          angle=s["angle"].keys[0] if "angle" in s else None,
                          movements=s["movement"].keys if "movement" in s else ())


def suggestions_of(clip: ClipRecord) -> dict[str, Suggestion]:
    """Per axis, the pre-label to offer: the most confident origin; its rank-0 key (framing,
    angle) or its keys in rank order (movement: a sequence such as pan_left then zoom_in)."""
    by_axis: dict[str, dict[str, list]] = {}
    for p in clip.prelabels:
        by_axis.setdefault(p.axis, {}).setdefault(p.origin, []).append(p)
    out: dict[str, Suggestion] = {}
    for axis, origins in by_axis.items():
        offers = []   # (score, origin, keys, confidence) per origin
        for origin, preds in origins.items():
            preds = sorted(preds, key=lambda p: (p.rank, -(p.confidence or 0.0), p.id))
            top = preds[0]
            if axis == "movement":
                # ranks 0..n are a sequence only where the origin says so; otherwise the top
                keys = [p.key for p in preds if (p.details or {}).get("sequence")] or [top.key]
            else:
                keys = [top.key]
            score = top.confidence if top.confidence is not None else -1.0
            offers.append((score, origin, tuple(keys), top.confidence))
        if not offers:
            continue
        # the most confident origin wins; on a tie the one listed first (stable sort)
        offers.sort(key=lambda o: -o[0])
        _, origin, keys, confidence = offers[0]
        dissent = tuple((o, k, c) for _, o, k, c in offers[1:] if k[0] != keys[0])
        out[axis] = Suggestion(axis, keys, confidence, origin, dissent)
    return out


class AnnotateBackend:
    """The workspace seen from the Annotate tab; safe to call from several worker threads."""

    def __init__(self, workspace: Path):
        self.workspace = Path(workspace)
        self._store: WorkspaceStore | None = None
        self._lock = threading.Lock()
        self._sources: dict[int, Any] = {}

    # -- opening ---------------------------------------------------------------------------

    @property
    def store(self) -> WorkspaceStore:
        with self._lock:
            if self._store is None:
                self._store = open_workspace(self.workspace)
            return self._store

    def open(self) -> dict[str, Any]:
        """Open (create, migrate) the workspace: its taxonomy, clip counts and annotators."""
        store = self.store
        return {"taxonomy": workspace_taxonomy(store), "counts": store.clips.count_by_stage(),
                "annotators": store.labels.annotators()}

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- reading ---------------------------------------------------------------------------

    def clip_ids(self, where: ClipFilter) -> list[int]:
        return self.store.clips.ids(where)

    def verify_queue(self, where: ClipFilter) -> list[int]:
        """Annotated clips to review, those whose annotators disagree first (then by id)."""
        return verify_uc.verify_queue(self.store, where)

    def rows(self, ids: Sequence[int]) -> list[ClipRow]:
        """Rows for these ids, in the order given (ids gone from the workspace are skipped)."""
        clips = self.store.clips.get_many(list(ids))
        return [self._row(c) for c in clips]

    def row(self, clip_id: int) -> ClipRow:
        return self._row(self.store.clips.get(clip_id))

    def _source(self, source_id: int) -> Any:
        src = self._sources.get(source_id)
        if src is None:
            src = self.store.sources.get(source_id)
            self._sources[source_id] = src
        return src

    def _row(self, clip: ClipRecord) -> ClipRow:
        src = self._source(clip.source_id)
        return ClipRow(clip=clip, source_name=src.display_name, source_path=src.path,
                       fps=src.fps, width=src.width, height=src.height,
                       suggestions=suggestions_of(clip))

    def annotators(self) -> list[str]:
        return self.store.labels.annotators()

    def thumbnail(self, row: ClipRow, max_size: int = 160) -> np.ndarray:
        """The clip's thumbnail as RGB: its stored file, else its middle frame decoded."""
        import cv2

        path = collect_uc.thumbnail_file(self.store, row.clip.thumbnail_path)
        if path is not None:
            if path.is_file():
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is not None:
                    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        from cinestudio.media.thumbnails import thumbnail

        middle = row.clip.start_frame + row.frames // 2
        return thumbnail(row.source_path, middle, max_size)

    # -- writing ---------------------------------------------------------------------------

    def set_label(self, clip_id: int, annotator: str, label: LabelState | None,
                  taxonomy: Taxonomy | None = None) -> ClipRow:
        """Make `annotator`'s label of the clip exactly `label` (None or empty: no label)."""
        store = self.store
        if label is None or label.empty:
            annotate_uc.remove_label(store, clip_id, annotator)
        else:
            annotate_uc.annotate_clip(store, clip_id, annotator, framing=label.framing,
                                      angle=label.angle, movements=list(label.movements),
                                      caption=label.caption, taxonomy=taxonomy)
        return self.row(clip_id)

    def review(self, clip_id: int, reviewer: str, decision: str, label: LabelState | None = None,
               reason: str | None = None, from_annotator: str | None = None,
               taxonomy: Taxonomy | None = None) -> ClipRow:
        """accept (the annotators' label, or `from_annotator`'s), fix (to `label`, every axis
        given), or reject (with a reason)."""
        store = self.store
        if decision == "reject":
            verify_uc.verify_clip(store, clip_id, reviewer, decision="reject", reason=reason)
        elif decision == "accept":
            verify_uc.verify_clip(store, clip_id, reviewer, decision="accept",
                                  from_annotator=from_annotator, taxonomy=taxonomy)
        else:
            label = label or LabelState()
            fixes: dict[str, Any] = {"framing": label.framing, "angle": label.angle,
                                     "movement": list(label.movements)}
            fixes = {k: v for k, v in fixes.items() if v}
            verify_uc.verify_clip(store, clip_id, reviewer, decision="fix", fixes=fixes,
                                  caption=label.caption, from_annotator=from_annotator,
                                  taxonomy=taxonomy)
        return self.row(clip_id)

    # -- import and stats ------------------------------------------------------------------

    def import_paths(self, paths: Sequence[str], *, progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> dict[str, Any]:
        """Run the import use-case; the report as a dict (``cancelled`` set when stopped)."""
        try:
            report = collect_uc.import_paths(self.store, list(paths), progress=progress,
                                             should_stop=should_stop)
        except collect_uc.ImportCancelled as stopped:
            report = stopped.report
        self._sources.clear()
        return report.to_dict()

    def stats(self) -> dict[str, Any]:
        return stats_uc.dataset_stats(self.store)
