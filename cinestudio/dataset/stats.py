"""Where a dataset stands: clips per stage, class balance per axis, inter-annotator agreement.

Agreement is computed per axis over the clips that two or more annotators labelled on that axis:
Cohen's kappa when exactly two annotators are involved, Fleiss' kappa otherwise (see
`agreement`). A movement label is compared as a whole (the ordered list of movements), so
``pan_left`` and ``pan_left, zoom_in`` disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cinestudio.dataset.agreement import agreement
from cinestudio.dataset.scheme import workspace_taxonomy
from cinestudio.dataset.verify import axis_values
from cinestudio.store import ClipFilter, ClipRecord, WorkspaceStore
from cinestudio.taxonomy import AXES

PAGE = 1000


def _pages(store: WorkspaceStore, where: ClipFilter) -> Iterator[ClipRecord]:
    offset = 0
    while True:
        page = store.clips.find(where, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def _balance(keys: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    return {axis: {k: 0 for k in keys[axis]} for axis in AXES}


def _count(table: dict[str, dict[str, int]], axis: str, key: str | None) -> None:
    if key:
        table[axis][key] = table[axis].get(key, 0) + 1


def dataset_stats(store: WorkspaceStore) -> dict[str, Any]:
    """Counts per stage, class balance per axis and agreement per axis, JSON-ready.

    ``balance.verified``: the verified labels (what export uses); ``balance.labels``: every
    annotator's label of clips not yet reviewed (one count per annotator); ``balance.prelabels``:
    the top pre-label per origin of clips nobody labelled yet. Every class of the scheme is
    listed, with 0 where it has no clip (gaps show).
    """
    tax = workspace_taxonomy(store)
    keys = {axis: tax.keys(axis) for axis in AXES}
    stages = store.clips.count_by_stage()
    verified, labelled, suggested = _balance(keys), _balance(keys), _balance(keys)
    per_axis: dict[str, list[dict[str, Any]]] = {axis: [] for axis in AXES}

    for clip in _pages(store, ClipFilter(stage="verified")):
        r = clip.review
        if r is not None:
            _count(verified, "framing", r.framing)
            _count(verified, "angle", r.angle)
            for mv in r.movements:
                _count(verified, "movement", mv)
    for clip in _pages(store, ClipFilter(stage="annotated")):
        for lab in clip.labels:
            _count(labelled, "framing", lab.framing)
            _count(labelled, "angle", lab.angle)
            for mv in lab.movements:
                _count(labelled, "movement", mv)
    for clip in _pages(store, ClipFilter(stage="collected")):
        seen: set[tuple[str, str]] = set()
        for p in sorted(clip.prelabels, key=lambda p: p.rank):
            if p.rank == 0 and (p.origin, p.axis) not in seen:
                seen.add((p.origin, p.axis))
                _count(suggested, p.axis, p.key)
    for clip in _pages(store, ClipFilter(min_annotators=2)):
        for axis in AXES:
            values = axis_values(clip.labels, axis)
            if len(values) >= 2:
                per_axis[axis].append(values)

    agreement_out = {}
    for axis in AXES:
        items = per_axis[axis]
        result = agreement(items).to_dict()
        result["disagreements"] = sum(1 for d in items if len(set(d.values())) > 1)
        agreement_out[axis] = result
    return {
        "scheme": tax.scheme,
        "sources": store.sources.count(),
        "clips": {**stages, "total": sum(stages.values())},
        "annotators": store.labels.annotators(),
        "labels": store.labels.count(),
        "reviews": store.reviews.count(),
        "balance": {"verified": verified, "labels": labelled, "prelabels": suggested},
        "agreement": agreement_out,
    }
