"""Stage 3, verify: a reviewer accepts, rejects or fixes an annotated clip.

The verified label (the latest review's) is what export uses. Accepting takes the annotators'
label: where they agree, or where a majority agrees on an axis; a tie must be settled by naming
the annotator to follow or by fixing that axis. Fixing starts from the same label and replaces the
axes given. Rejecting needs a reason. The store audits every review and stage change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cinestudio.dataset.scheme import check_key, check_movements, workspace_taxonomy
from cinestudio.errors import UserInputError
from cinestudio.store import ClipFilter, ClipRecord, LabelRecord, ReviewRecord, WorkspaceStore
from cinestudio.taxonomy import AXES, Taxonomy

FIXABLE = (*AXES, "caption")


@dataclass(frozen=True)
class ResolvedLabel:
    """The label the annotators' labels amount to; `conflicts` lists the axes with no majority
    (axis -> {annotator: value})."""

    framing: str | None = None
    angle: str | None = None
    movements: tuple[str, ...] = ()
    caption: str | None = None
    label_id: int | None = None
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, axis: str) -> Any:
        return {"framing": self.framing, "angle": self.angle, "movement": self.movements,
                "caption": self.caption}[axis]


def _value(label: LabelRecord, axis: str) -> Any:
    return tuple(label.movements) if axis == "movement" else getattr(label, axis)


def axis_values(labels: Sequence[LabelRecord], axis: str) -> dict[str, Any]:
    """annotator -> their value on `axis` (movement: the ordered tuple), for set values only."""
    out = {}
    for lab in labels:
        v = _value(lab, axis)
        if v not in (None, ()):
            out[lab.annotator] = v
    return out


def disagreements(clip: ClipRecord) -> tuple[str, ...]:
    """The axes on which the clip's annotators chose different values."""
    return tuple(axis for axis in AXES if len(set(axis_values(clip.labels, axis).values())) > 1)


def resolve_labels(labels: Sequence[LabelRecord], from_annotator: str | None = None) -> ResolvedLabel:
    """One label from several: `from_annotator`'s, else per axis the value all or most
    annotators chose (ties go to `conflicts`). The caption is the first non-empty one."""
    if from_annotator is not None:
        lab = next((lab for lab in labels if lab.annotator == from_annotator), None)
        if lab is None:
            raise UserInputError(from_annotator, "has not labelled this clip (annotators: "
                                 + (", ".join(x.annotator for x in labels) or "none") + ")")
        return ResolvedLabel(lab.framing, lab.angle, tuple(lab.movements), lab.caption, lab.id)
    values: dict[str, Any] = {}
    conflicts: dict[str, dict[str, Any]] = {}
    for axis in AXES:
        per = axis_values(labels, axis)
        counts = Counter(per.values()).most_common()
        if not counts:
            values[axis] = None
        elif len(counts) > 1 and counts[0][1] == counts[1][1]:
            values[axis] = None
            conflicts[axis] = per
        else:
            values[axis] = counts[0][0]
    caption = next((lab.caption for lab in labels if lab.caption), None)
    label_id = labels[0].id if len(labels) == 1 else None
    return ResolvedLabel(values["framing"], values["angle"], tuple(values["movement"] or ()),
                         caption, label_id, conflicts)


def parse_fixes(items: Sequence[str]) -> dict[str, Any]:
    """``["angle=low_angle", "movement=pan_left", "movement=zoom_in"]`` -> a fixes mapping
    (repeated ``movement=`` keep their order; ``caption=TEXT`` replaces the caption)."""
    fixes: dict[str, Any] = {}
    for item in items:
        axis, sep, key = str(item).partition("=")
        axis, key = axis.strip(), key.strip()
        if not sep or not axis:
            raise UserInputError(str(item), "expected AXIS=KEY (e.g. angle=low_angle)")
        if axis not in FIXABLE:
            raise UserInputError(axis, f"unknown axis (expected one of {', '.join(FIXABLE)})")
        if axis == "movement":
            fixes.setdefault("movement", []).append(key)
        elif axis in fixes:
            raise UserInputError(item, f"{axis} fixed twice")
        else:
            fixes[axis] = key
    return fixes


def verify_clip(store: WorkspaceStore, clip_id: int, reviewer: str, *, decision: str,
                reason: str | None = None, fixes: Mapping[str, Any] | None = None,
                from_annotator: str | None = None, caption: str | None = None,
                taxonomy: Taxonomy | None = None) -> ReviewRecord:
    """Review a clip: ``decision`` is ``accept``, ``reject`` (needs `reason`) or ``fix`` (needs
    `fixes`: axis -> key, ``movement`` -> key or ordered keys, ``caption`` -> text).

    Accept/fix build the verified label with `resolve_labels` (optionally `from_annotator`'s)
    and the fixes; the result must be complete (framing, angle, one or more movements).
    Returns the stored review; the clip moves to ``verified`` or ``rejected``.
    """
    if decision not in ("accept", "reject", "fix"):
        raise UserInputError(decision, "unknown decision (expected accept, reject or fix)")
    clip = store.clips.get(clip_id)
    if decision == "reject":
        if fixes:
            raise UserInputError(f"clip {clip_id}", "a rejection takes a reason, not fixes")
        if not reason or not reason.strip():
            raise UserInputError(f"clip {clip_id}", "a rejection needs a reason (--reason TEXT)")
        return store.reviews.add(clip_id, reviewer, "reject", reason=reason)
    tax = taxonomy or workspace_taxonomy(store)
    if decision == "fix" and not fixes and caption is None:
        raise UserInputError(f"clip {clip_id}", "fix needs at least one AXIS=KEY")
    if decision == "accept" and fixes:
        raise UserInputError(f"clip {clip_id}", "accept takes no fixes (use fix)")
    base = resolve_labels(clip.labels, from_annotator)
    fixes = dict(fixes or {})
    framing = check_key(tax, "framing", fixes["framing"]) if "framing" in fixes else base.framing
    angle = check_key(tax, "angle", fixes["angle"]) if "angle" in fixes else base.angle
    movements = (check_movements(tax, fixes["movement"]) if "movement" in fixes
                 else list(base.movements))
    text = caption if caption is not None else fixes.get("caption", base.caption)
    if decision == "accept" and not clip.labels:
        raise UserInputError(f"clip {clip_id}", "has no label to accept (annotate it first, or "
                                                "give the whole label with fix)")
    unresolved = [axis for axis in base.conflicts if axis not in fixes]
    if unresolved:
        detail = "; ".join(f"{axis}: " + ", ".join(f"{a}={_show(v)}" for a, v in
                                                   base.conflicts[axis].items())
                           for axis in unresolved)
        raise UserInputError(f"clip {clip_id}", f"annotators disagree ({detail}): follow one "
                             "with --from ANNOTATOR or settle it with --fix AXIS=KEY")
    missing = [axis for axis, v in (("framing", framing), ("angle", angle),
                                    ("movement", movements)) if not v]
    if missing:
        raise UserInputError(f"clip {clip_id}", f"the verified label lacks {', '.join(missing)}: "
                                                "add it with --fix AXIS=KEY")
    label_id = base.label_id
    return store.reviews.add(clip_id, reviewer, decision, framing=framing, angle=angle,
                             movements=movements, caption=text, label_id=label_id)


def _show(value: Any) -> str:
    return "+".join(value) if isinstance(value, tuple) else str(value)


def accept_clip(store: WorkspaceStore, clip_id: int, reviewer: str, *,
                from_annotator: str | None = None) -> ReviewRecord:
    return verify_clip(store, clip_id, reviewer, decision="accept", from_annotator=from_annotator)


def reject_clip(store: WorkspaceStore, clip_id: int, reviewer: str, reason: str) -> ReviewRecord:
    return verify_clip(store, clip_id, reviewer, decision="reject", reason=reason)


def fix_clip(store: WorkspaceStore, clip_id: int, reviewer: str, fixes: Mapping[str, Any], *,
             from_annotator: str | None = None) -> ReviewRecord:
    return verify_clip(store, clip_id, reviewer, decision="fix", fixes=fixes,
                       from_annotator=from_annotator)


def verify_queue(store: WorkspaceStore, where: ClipFilter | None = None,
                 page: int = 500) -> list[int]:
    """Ids of annotated clips to review: those whose annotators disagree first, then by id.
    `where` narrows further (its stage is replaced by ``annotated``)."""
    import dataclasses

    base = dataclasses.replace(where or ClipFilter(), stage="annotated")
    ids = store.clips.ids(base)
    multi = store.clips.ids(dataclasses.replace(base, min_annotators=2))
    disagree: list[int] = []
    for k in range(0, len(multi), page):
        disagree += [c.id for c in store.clips.get_many(multi[k:k + page]) if disagreements(c)]
    first = set(disagree)
    return disagree + [i for i in ids if i not in first]
