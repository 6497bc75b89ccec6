"""Stats: stage counts, class balance per axis, kappa per axis over doubly labelled clips."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.dataset.agreement import cohen_kappa, fleiss_kappa
from cinestudio.dataset.annotate import annotate_clip
from cinestudio.dataset.stats import dataset_stats
from cinestudio.dataset.verify import verify_clip
from tests.store.conftest import sha

ANA = ["close_up", "close_up", "long_shot", "long_shot", "medium_shot", "close_up"]
BEN = ["close_up", "long_shot", "long_shot", "long_shot", "medium_shot", "medium_shot"]


@pytest.fixture
def labelled(store):
    src, _ = store.sources.add(path="/v/a.mp4", content_sha256=sha("a"), size_bytes=1)
    ids = [c.id for c in store.clips.add_many(src.id, [(i * 10, i * 10 + 10) for i in range(8)])]
    for i, (fa, fb) in enumerate(zip(ANA, BEN)):
        annotate_clip(store, ids[i], "ana", framing=fa, angle="eye_level", movements=["static"])
        annotate_clip(store, ids[i], "ben", framing=fb, angle="eye_level",
                      movements=["static"] if i % 2 else ["pan_left"])
    annotate_clip(store, ids[6], "ana", framing="close_up", angle="high_angle", movements=["tilt_up"])
    verify_clip(store, ids[6], "rev", decision="accept")
    return store, ids


def test_counts_balance_and_cohen(labelled):
    store, ids = labelled
    s = dataset_stats(store)
    assert s["clips"] == {"collected": 1, "annotated": 6, "verified": 1, "rejected": 0, "total": 8}
    assert s["annotators"] == ["ana", "ben"]
    assert s["balance"]["verified"]["framing"]["close_up"] == 1
    assert s["balance"]["verified"]["framing"]["extreme_close_up"] == 0   # every class listed
    assert s["balance"]["labels"]["framing"]["long_shot"] == 5
    assert s["balance"]["prelabels"]["movement"] == {k: 0 for k in s["balance"]["prelabels"]["movement"]}
    framing = s["agreement"]["framing"]
    expected = cohen_kappa(list(zip(ANA, BEN)))
    assert framing["method"] == "cohen" and framing["items"] == 6
    assert framing["kappa"] == pytest.approx(expected.kappa, abs=1e-4)
    assert framing["disagreements"] == 2
    assert s["agreement"]["angle"]["kappa"] is None        # everyone said eye_level: undefined
    assert s["agreement"]["movement"]["disagreements"] == 3


def test_three_annotators_give_fleiss(labelled):
    store, ids = labelled
    annotate_clip(store, ids[0], "cy", framing="long_shot", angle="eye_level", movements=["static"])
    s = dataset_stats(store)
    framing = s["agreement"]["framing"]
    assert framing["method"] == "fleiss" and framing["raters"] == 3
    ratings = [[a, b] for a, b in zip(ANA, BEN)]
    ratings[0].append("long_shot")
    assert framing["kappa"] == pytest.approx(fleiss_kappa(ratings).kappa, abs=1e-4)


def test_stats_cli(labelled, tmp_path):
    store, _ = labelled
    runner = CliRunner()
    res = runner.invoke(app, ["--workspace", str(store.paths.root), "stats", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["clips"]["total"] == 8
    res = runner.invoke(app, ["--workspace", str(store.paths.root), "stats"])
    assert "agreement framing   cohen kappa" in res.stdout
