"""Inter-annotator agreement: Cohen's kappa (two raters) and Fleiss' kappa (any number).

Pure functions over plain data, no database: `stats` feeds them the labels of each axis.

- `cohen_kappa(pairs)`: two raters who each labelled every item, ``[(a, b), ...]``;
  κ = (p_o − p_e) / (1 − p_e) with p_e from each rater's own marginals (Cohen 1960).
- `fleiss_kappa(ratings)`: per item the list of categories its raters chose (Fleiss 1971). Items
  may have different numbers of raters (≥ 2 each): P_i = Σ_j n_ij(n_ij − 1) / (n_i(n_i − 1)),
  p_j = Σ_i n_ij / Σ_i n_i; with a constant number of raters this is exactly Fleiss' formula.

Both return None when kappa is undefined (no items, or p_e = 1: everyone always used one single
category, so chance explains all agreement).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Agreement:
    """A kappa with what it was computed from: `method` is ``"cohen"`` or ``"fleiss"``."""

    method: str
    kappa: float | None
    observed: float | None   # p_o (Cohen) or P̄ (Fleiss): the agreement actually seen
    expected: float | None   # p_e (Cohen) or P̄_e (Fleiss): agreement expected by chance
    items: int               # items (clips) that entered the computation
    raters: int              # distinct raters among them

    def to_dict(self) -> dict:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {"method": self.method, "kappa": r(self.kappa), "observed": r(self.observed),
                "expected": r(self.expected), "items": self.items, "raters": self.raters}


def _kappa(observed: float, expected: float) -> float | None:
    if expected >= 1.0 - 1e-12:
        return None
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> Agreement:
    """Cohen's kappa of two raters; `pairs` holds (rater A's category, rater B's) per item."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return Agreement("cohen", None, None, None, 0, 2)
    observed = sum(1 for a, b in pairs if a == b) / n
    count_a = Counter(a for a, _ in pairs)
    count_b = Counter(b for _, b in pairs)
    expected = sum(count_a[c] * count_b.get(c, 0) for c in count_a) / (n * n)
    return Agreement("cohen", _kappa(observed, expected), observed, expected, n, 2)


def fleiss_kappa(ratings: Iterable[Sequence[Hashable]], raters: int | None = None) -> Agreement:
    """Fleiss' kappa; `ratings` holds, per item, the categories its raters chose (one each).

    Items with fewer than two ratings are ignored. `raters` (the number of distinct raters, for
    the report only) defaults to the largest number of ratings of one item.
    """
    items = [list(r) for r in ratings if len(r) >= 2]
    if not items:
        return Agreement("fleiss", None, None, None, 0, raters or 0)
    totals: Counter = Counter()
    p_items = []
    for cats in items:
        n_i = len(cats)
        counts = Counter(cats)
        totals.update(counts)
        p_items.append(sum(c * (c - 1) for c in counts.values()) / (n_i * (n_i - 1)))
    all_ratings = sum(totals.values())
    observed = sum(p_items) / len(items)
    expected = sum((c / all_ratings) ** 2 for c in totals.values())
    return Agreement("fleiss", _kappa(observed, expected), observed, expected, len(items),
                     raters if raters is not None else max(len(r) for r in items))


def fleiss_from_table(table: Sequence[Sequence[int]]) -> Agreement:
    """Fleiss' kappa from the classic subjects × categories count table (n_ij)."""
    ratings = [[j for j, count in enumerate(row) for _ in range(int(count))] for row in table]
    return fleiss_kappa(ratings)


def agreement(labels_per_item: Iterable[dict[str, Hashable]]) -> Agreement:
    """Kappa for items each labelled by several raters: ``[{rater: category}, ...]``.

    Cohen's kappa when exactly two raters labelled every counted item (the textbook two-rater
    case), Fleiss' kappa otherwise. Items with fewer than two raters are left out.
    """
    items = [d for d in labels_per_item if len(d) >= 2]
    raters = sorted({r for d in items for r in d}, key=str)
    if len(raters) == 2:
        a, b = raters
        return cohen_kappa((d[a], d[b]) for d in items)
    return fleiss_kappa([list(d.values()) for d in items], raters=len(raters))
