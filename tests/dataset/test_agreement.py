"""Kappa against textbook examples with published values."""

from __future__ import annotations

import pytest

from cinestudio.dataset.agreement import agreement, cohen_kappa, fleiss_from_table, fleiss_kappa


def _pairs(yy: int, yn: int, ny: int, nn: int) -> list[tuple[str, str]]:
    return [("y", "y")] * yy + [("y", "n")] * yn + [("n", "y")] * ny + [("n", "n")] * nn


def test_cohen_textbook():
    # Wikipedia, "Cohen's kappa": 50 grant proposals, p_o = 0.7, p_e = 0.5, kappa = 0.4
    a = cohen_kappa(_pairs(20, 5, 10, 15))
    assert a.observed == pytest.approx(0.7)
    assert a.expected == pytest.approx(0.5)
    assert a.kappa == pytest.approx(0.4)
    # same percent agreement, different kappa: 0.1304 and 0.2593
    assert cohen_kappa(_pairs(45, 15, 25, 15)).kappa == pytest.approx(0.1304, abs=1e-4)
    assert cohen_kappa(_pairs(25, 35, 5, 35)).kappa == pytest.approx(0.2593, abs=1e-4)


def test_fleiss_textbook():
    # Wikipedia, "Fleiss' kappa": 10 subjects, 14 raters, 5 categories -> 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
             [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
             [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    a = fleiss_from_table(table)
    assert a.observed == pytest.approx(0.378, abs=1e-3)
    assert a.expected == pytest.approx(0.213, abs=1e-3)
    assert a.kappa == pytest.approx(0.210, abs=1e-3)
    assert a.items == 10


def test_edge_cases():
    assert cohen_kappa([]).kappa is None
    assert cohen_kappa([("a", "a"), ("a", "a")]).kappa is None      # chance explains everything
    assert cohen_kappa([("a", "a"), ("b", "b")]).kappa == pytest.approx(1.0)
    assert fleiss_kappa([["a"], []]).kappa is None                  # nobody rated twice
    assert fleiss_kappa([["a", "a", "a"], ["b", "b", "b"]]).kappa == pytest.approx(1.0)


def test_agreement_picks_the_method():
    two = [{"ana": "x", "ben": "x"}, {"ana": "y", "ben": "x"}, {"ana": "y", "ben": "y"}]
    a = agreement(two)
    assert a.method == "cohen" and a.kappa == cohen_kappa([("x", "x"), ("y", "x"), ("y", "y")]).kappa
    three = two + [{"ana": "x", "cy": "x", "ben": "y"}]
    b = agreement(three)
    assert b.method == "fleiss" and b.raters == 3 and b.items == 4
    assert agreement([{"ana": "x"}]).items == 0
