"""Annotate (stage 2) and verify (stage 3): scheme checks, several annotators, audit, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.dataset.annotate import annotate_clip, clip_dict, list_clips, remove_label
from cinestudio.dataset.verify import (
    disagreements,
    parse_fixes,
    resolve_labels,
    verify_clip,
    verify_queue,
)
from cinestudio.errors import UnknownClassError, UserInputError
from cinestudio.store import NotFoundError
from tests.store.conftest import sha


@pytest.fixture
def clips(store) -> list[int]:
    src, _ = store.sources.add(path="/videos/a.mp4", content_sha256=sha("a"), size_bytes=1,
                               frames=300, fps=25.0)
    return [c.id for c in store.clips.add_many(src.id, [(0, 100), (100, 200), (200, 300)])]


def test_annotate_checks_keys_and_keeps_movement_order(store, clips):
    lab = annotate_clip(store, clips[0], "ana", framing="close_up", angle="low_angle",
                        movements=["pan_left", "zoom_in"], caption="a face")
    assert lab.movements == ("pan_left", "zoom_in")
    assert store.clips.get(clips[0]).stage == "annotated"
    with pytest.raises(UnknownClassError, match="unknown framing class"):
        annotate_clip(store, clips[0], "ana", framing="medium", angle="low_angle", movements=["static"])
    with pytest.raises(UnknownClassError):
        annotate_clip(store, clips[0], "ana", framing="close_up", angle="low_angle",
                      movements=["pan_left", "dutch_spin"])
    with pytest.raises(UnknownClassError):   # an extended-scheme key is not in cinematic2k
        annotate_clip(store, clips[0], "ana", framing="full_shot")
    with pytest.raises(UserInputError, match="twice"):
        annotate_clip(store, clips[0], "ana", movements=["pan_left", "pan_left"])
    with pytest.raises(NotFoundError):
        annotate_clip(store, 999, "ana", framing="close_up")
    # refused labels changed nothing
    assert store.labels.get(clips[0], "ana").movements == ("pan_left", "zoom_in")


def test_several_annotators_each_keep_their_label_and_every_change_is_audited(store, clips):
    annotate_clip(store, clips[0], "ana", framing="close_up", angle="eye_level", movements="static")
    annotate_clip(store, clips[0], "ben", framing="medium_shot", angle="eye_level", movements="static")
    annotate_clip(store, clips[0], "ana", framing="long_shot", angle="eye_level", movements="static")
    clip = store.clips.get(clips[0])
    assert {lab.annotator: lab.framing for lab in clip.labels} == {"ana": "long_shot",
                                                                 "ben": "medium_shot"}
    assert disagreements(clip) == ("framing",)
    label_audit = store.audit.find(entity_type="label")
    assert [(a.actor, a.action) for a in label_audit] == [("ana", "create"), ("ben", "create"),
                                                          ("ana", "update")]
    assert label_audit[-1].before["framing"] == "close_up"
    assert label_audit[-1].after["framing"] == "long_shot"
    assert remove_label(store, clips[0], "ben")
    assert [lab.annotator for lab in store.clips.get(clips[0]).labels] == ["ana"]
    assert store.audit.find(entity_type="label", action="delete")[0].actor == "ben"


def test_verify_accept_reject_fix(store, clips):
    a, b, c = clips
    annotate_clip(store, a, "ana", framing="close_up", angle="eye_level", movements=["pan_left"],
                  caption="hello")
    review = verify_clip(store, a, "rev", decision="accept")
    assert (review.decision, review.framing, review.movements, review.caption) == (
        "accept", "close_up", ("pan_left",), "hello")
    assert store.clips.get(a).stage == "verified"

    annotate_clip(store, b, "ana", framing="close_up", angle="eye_level", movements=["static"])
    review = verify_clip(store, b, "rev", decision="fix",
                         fixes=parse_fixes(["angle=high_angle", "movement=tilt_down",
                                            "movement=zoom_out"]))
    assert (review.angle, review.movements, review.framing) == ("high_angle",
                                                                ("tilt_down", "zoom_out"), "close_up")
    review = verify_clip(store, c, "rev", decision="reject", reason="blurry")
    assert store.clips.get(c).stage == "rejected" and review.reason == "blurry"

    with pytest.raises(UserInputError, match="needs a reason"):
        verify_clip(store, c, "rev", decision="reject")
    with pytest.raises(UnknownClassError):
        verify_clip(store, b, "rev", decision="fix", fixes={"angle": "sideways"})
    with pytest.raises(UserInputError, match="expected AXIS=KEY"):
        parse_fixes(["angle"])
    with pytest.raises(UserInputError, match="unknown axis"):
        parse_fixes(["colour=red"])
    # every review and stage change is in the audit log, with before and after
    reviews = store.audit.find(entity_type="review")
    assert [r.after["decision"] for r in reviews] == ["accept", "fix", "reject"]
    stages = [(x.entity_id, x.before["stage"], x.after["stage"])
              for x in store.audit.find(entity_type="clip", action="stage")]
    assert (str(b), "annotated", "verified") in stages and (str(c), "collected", "rejected") in stages


def test_verify_with_disagreeing_annotators(store, clips):
    a = clips[0]
    annotate_clip(store, a, "ana", framing="close_up", angle="eye_level", movements=["pan_left"])
    annotate_clip(store, a, "ben", framing="close_up", angle="low_angle", movements=["pan_left"])
    with pytest.raises(UserInputError, match="annotators disagree .*angle: ana=eye_level, ben=low_angle"):
        verify_clip(store, a, "rev", decision="accept")
    assert verify_clip(store, a, "rev", decision="accept", from_annotator="ben").angle == "low_angle"
    assert verify_clip(store, a, "rev", decision="fix", fixes={"angle": "high_angle"}).angle == "high_angle"
    annotate_clip(store, a, "cy", framing="close_up", angle="eye_level", movements=["pan_left"])
    assert resolve_labels(store.clips.get(a).labels).angle == "eye_level"   # majority 2:1


def test_accept_needs_a_label_and_a_complete_one(store, clips):
    with pytest.raises(UserInputError, match="no label to accept"):
        verify_clip(store, clips[0], "rev", decision="accept")
    annotate_clip(store, clips[1], "ana", framing="close_up")
    with pytest.raises(UserInputError, match="lacks angle, movement"):
        verify_clip(store, clips[1], "rev", decision="accept")
    # a reviewer may give the whole label of an unlabelled clip
    r = verify_clip(store, clips[0], "rev", decision="fix",
                    fixes={"framing": "long_shot", "angle": "overhead", "movement": ["static"]})
    assert r.framing == "long_shot"


def test_verify_queue_puts_disagreements_first(store, clips):
    a, b, c = clips
    for clip in (a, b, c):
        annotate_clip(store, clip, "ana", framing="close_up", angle="eye_level", movements=["static"])
    annotate_clip(store, c, "ben", framing="long_shot", angle="eye_level", movements=["static"])
    annotate_clip(store, a, "ben", framing="close_up", angle="eye_level", movements=["static"])
    assert verify_queue(store) == [c, a, b]
    verify_clip(store, c, "rev", decision="fix", fixes={"framing": "long_shot"})
    assert verify_queue(store) == [a, b]


def test_cli_annotate_clips_verify(tmp_path):
    from cinestudio.store import open_workspace

    ws = tmp_path / "ws"
    with open_workspace(ws) as store:
        src, _ = store.sources.add(path="/v/a.mp4", content_sha256=sha("x"), size_bytes=1)
        (clip,) = store.clips.add_many(src.id, [(0, 50)])
    runner = CliRunner()
    base = ["--workspace", str(ws)]
    res = runner.invoke(app, [*base, "annotate", str(clip.id), "--annotator", "ana", "--framing",
                              "close_up", "--angle", "eye_level", "--movement", "pan_left",
                              "--movement", "zoom_in", "--caption", "ça tourne", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["movement"] == ["pan_left", "zoom_in"]
    res = runner.invoke(app, [*base, "annotate", str(clip.id), "--annotator", "ana", "--framing",
                              "close_up", "--angle", "diagonal", "--movement", "pan_left"])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: diagonal: unknown angle class")
    res = runner.invoke(app, [*base, "clips", "--stage", "annotated", "--json"])
    (row,) = json.loads(res.stdout)
    assert row["labels"][0]["caption"] == "ça tourne" and row["source"] == "/v/a.mp4"
    res = runner.invoke(app, [*base, "verify", str(clip.id), "--reviewer", "rev", "--accept",
                              "--reject"])
    assert res.exit_code == 2 and "exactly one of" in res.stderr
    res = runner.invoke(app, [*base, "verify", str(clip.id), "--reviewer", "rev",
                              "--fix", "framing=long_shot", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["framing"] == "long_shot"
    res = runner.invoke(app, [*base, "clips", "--stage", "verified"])
    assert "verified by rev (fix): long_shot · eye_level · pan_left → zoom_in" in res.stdout
    res = runner.invoke(app, [*base, "verify", "77", "--reviewer", "rev", "--accept"])
    assert res.exit_code == 2 and res.stderr.startswith("error: clip 77: no such clip")
    res = runner.invoke(app, ["--workspace", str(tmp_path / "nothing"), "clips"])
    assert res.exit_code == 2 and "not a CineStudio workspace" in res.stderr


def test_clip_dict_is_json_ready(store, clips):
    annotate_clip(store, clips[0], "ana", framing="close_up", angle="eye_level", movements="static")
    (clip,) = list_clips(store, stage="annotated")
    json.dumps(clip_dict(clip, store.sources.get(clip.source_id)))


def test_cli_clips_whose_pre_labellers_disagree(tmp_path):
    from cinestudio.store import PrelabelSpec, open_workspace

    ws = tmp_path / "ws"
    with open_workspace(ws) as store:
        src, _ = store.sources.add(path="/v/a.mp4", content_sha256=sha("x"), size_bytes=1)
        a, b = store.clips.add_many(src.id, [(0, 50), (50, 100)])
        for clip, clip_says in ((a, "tracking"), (b, "static")):
            store.prelabels.replace(clip.id, "motion", [PrelabelSpec("movement", "static", 0.8)])
            store.prelabels.replace(clip.id, "cameraclip", [PrelabelSpec("movement", clip_says, 0.9)])
    res = CliRunner().invoke(app, ["--workspace", str(ws), "clips", "--prelabels-disagree", "--json"])
    assert res.exit_code == 0, res.output
    assert [row["id"] for row in json.loads(res.stdout)] == [a.id]
    res = CliRunner().invoke(app, ["--workspace", str(ws), "clips", "--prelabels-disagree"])
    assert "tracking (cameraclip 0.90)" in res.stdout and "static (motion 0.80)" in res.stdout
