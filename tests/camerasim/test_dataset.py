"""The dataset generator and the ``cinestudio simulate`` command."""

import json
import subprocess
import sys
from collections import Counter

import av
import numpy as np
import pytest

from cinestudio.camerasim.dataset import LABELS, plan_dataset, simulate_dataset
from cinestudio.errors import UserInputError
from cinestudio.progress import Cancelled
from cinestudio.taxonomy import AXES, load_taxonomy

SMALL = dict(size=32, frames=3, fps=8)


def tiny_scheme(tmp_path, framing=("close_up", "long_shot"), angle=("eye_level", "high_angle"),
                movement=("static", "pan_left", "zoom_in")):
    """A custom scheme file with a few classes (fewer clips: faster tests)."""
    def cls(k):
        return {"key": k, "label": k, "definition": k, "prompts": [k, f"a {k} shot"]}
    data = {"scheme": "tiny", "axes": {"framing": [cls(k) for k in framing], "angle": [cls(k) for k in angle],
                                       "movement": [cls(k) for k in movement]}}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("scheme,per_class", [("cinematic2k", 1), ("cinematic2k", 3), ("extended", 1)])
def test_plan_makes_every_class_a_target_per_class_times(scheme, per_class):
    tax = load_taxonomy(scheme)
    plans = plan_dataset(per_class, seed=5, scheme=scheme)
    assert len(plans) == per_class * len(tax)
    for axis in AXES:
        targets = Counter(getattr(p, axis) for p in plans if p.target_axis == axis)
        assert targets == {k: per_class for k in tax.keys(axis)}
        # the other axes are balanced too: counts differ by at most one... per target block
        counts = Counter(getattr(p, axis) for p in plans)
        assert set(counts) == set(tax.keys(axis)) and min(counts.values()) >= per_class
    assert plan_dataset(per_class, 5, scheme) == plans
    assert plan_dataset(per_class, 6, scheme) != plans


def test_plan_never_makes_an_extreme_close_up_zoom_or_dolly():
    """In an extreme close-up the face fills the frame: a dolly there is pixel for pixel a zoom,
    so the data set does not ask for that distinction; the framing itself stays, balanced."""
    plans = plan_dataset(20, seed=3)
    scaling = ("zoom_in", "zoom_out", "dolly_in", "dolly_out")
    assert not [p for p in plans if p.framing == "extreme_close_up" and p.movement in scaling]
    for axis in ("framing", "movement"):  # still balanced, to within a clip or two
        counts = Counter(getattr(p, axis) for p in plans)
        assert max(counts.values()) - min(counts.values()) <= 2, counts
    # the close-ups that would have been extreme go to the other framings
    assert {p.framing for p in plans if p.movement in scaling} == {"extreme_long_shot", "long_shot", "medium_shot",
                                                                     "close_up"}


def test_plan_films_some_clips_hand_held_unless_the_scheme_has_a_handheld_class():
    plans = plan_dataset(20, seed=3)
    shaky = [p for p in plans if p.shake > 0]
    assert 0.3 < len(shaky) / len(plans) < 0.5
    assert all(0.15 <= p.shake <= 0.5 for p in shaky)
    # every movement gets its share, static included (a hand-held static shot is still static)
    assert {p.movement for p in shaky} == {p.movement for p in plans}
    # where "handheld" is a class, a wobble would blur it with "static": none
    assert all(p.shake == 0 for p in plan_dataset(1, seed=3, scheme="extended"))


def test_plan_rejects_bad_input():
    with pytest.raises(UserInputError):
        plan_dataset(0, 1)
    with pytest.raises(UserInputError):
        plan_dataset(1, 1, scheme="no_such_scheme")


def _decode(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_simulate_covers_all_classes_and_is_deterministic(tmp_path):
    a = simulate_dataset(tmp_path / "a", per_class=1, seed=42, **SMALL)
    assert a["clips"] == 20
    lines = (tmp_path / "a" / LABELS).read_text(encoding="utf-8").splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == 20
    tax = load_taxonomy("cinematic2k")
    for axis in AXES:
        assert {r[axis] for r in recs} == set(tax.keys(axis))
        assert a["per_class_counts"][axis] == dict(Counter(r[axis] for r in recs))
    for r in recs:
        assert not r["file"].startswith("/") and (tmp_path / "a" / r["file"]).is_file()
        for key in ("caption", "start_position", "end_position", "yaw", "pitch", "roll", "focal_mm", "focus_m",
                    "subject_distance", "trajectory", "moves"):
            assert key in r, key
        assert len(r["trajectory"]) == 3 and r["caption"].endswith(".") and len(r["caption"]) > 30
    assert len({r["caption"] for r in recs}) == 20
    # same arguments elsewhere: byte-identical labels and identical pictures
    simulate_dataset(tmp_path / "b", per_class=1, seed=42, **SMALL)
    assert (tmp_path / "b" / LABELS).read_bytes() == (tmp_path / "a" / LABELS).read_bytes()
    for r in recs:
        fa, fb = _decode(tmp_path / "a" / r["file"]), _decode(tmp_path / "b" / r["file"])
        assert fa.shape == (3, 32, 32, 3) and np.array_equal(fa, fb)


def test_interrupted_run_leaves_consistent_labels_and_resumes(tmp_path):
    calls = {"n": 0}

    def stop_after_five():
        calls["n"] += 1
        return calls["n"] > 5

    scheme = tiny_scheme(tmp_path)
    out = tmp_path / "ds"
    with pytest.raises(Cancelled):
        simulate_dataset(out, per_class=1, seed=9, should_stop=stop_after_five, scheme=scheme, **SMALL)
    recs = [json.loads(x) for x in (out / LABELS).read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 5 and all((out / r["file"]).is_file() for r in recs)
    seen = []
    simulate_dataset(out, per_class=1, seed=9, progress=lambda d, t, m="": seen.append(d), scheme=scheme, **SMALL)
    assert seen[0] == 5 and seen[-1] == 7
    simulate_dataset(tmp_path / "whole", per_class=1, seed=9, scheme=scheme, **SMALL)
    assert (out / LABELS).read_bytes() == (tmp_path / "whole" / LABELS).read_bytes()
    assert not (out / "labels.partial.jsonl").exists()
    # other settings in the same folder are refused
    with pytest.raises(UserInputError):
        simulate_dataset(out, per_class=2, seed=9, scheme=scheme, **SMALL)


def test_walking_subjects_are_an_option_recorded_with_the_set(tmp_path):
    """`subject_walks`: that share of subjects walks across the frame on their own (not in tracking
    or rack focus shots); the labels say so, the folder's settings keep it, and 0 is none."""
    plain = simulate_dataset(tmp_path / "plain", per_class=2, seed=5, subject_walks=0.0, **SMALL)
    walks = simulate_dataset(tmp_path / "walks", per_class=2, seed=5, subject_walks=1.0, **SMALL)
    assert plain["clips"] == walks["clips"] == 40
    recs = {k: [json.loads(x) for x in (tmp_path / k / LABELS).read_text(encoding="utf-8").splitlines()]
            for k in ("plain", "walks")}
    walking = [r for r in recs["walks"] if r["subject"] and r["subject"]["walks"] and r["movement"] != "tracking"]
    assert len(walking) >= 10 and all(r["movement"] != "rack_focus" for r in walking)
    assert all(not r["subject"]["walks"] for r in recs["plain"] if r["subject"] and r["movement"] != "tracking")
    assert all("walking" in r["caption"] for r in walking)
    with pytest.raises(UserInputError):  # the folder was made without walking subjects
        simulate_dataset(tmp_path / "plain", per_class=2, seed=5, **SMALL)
    assert simulate_dataset(tmp_path / "default", per_class=2, seed=5, **SMALL)["clips"] == 40  # some walk by default
    recs = [json.loads(x) for x in (tmp_path / "default" / LABELS).read_text(encoding="utf-8").splitlines()]
    assert 0 < sum(bool(r["subject"] and r["subject"]["walks"] and r["movement"] != "tracking") for r in recs) < 20
    with pytest.raises(UserInputError):
        simulate_dataset(tmp_path / "bad", per_class=1, seed=5, subject_walks=2.0, **SMALL)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cinestudio", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_cli_simulate_json_and_errors(tmp_path):
    out = tmp_path / "plan séquence 日本"
    scheme = tiny_scheme(tmp_path, ("medium_shot",), ("low_angle",), ("tilt_up", "dolly_in"))
    r = run_cli("simulate", str(out), "--per-class", "1", "--seed", "3", "--size", "32", "--frames", "3",
                "--scheme", scheme, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"out", "clips", "labels", "per_class_counts"} and data["clips"] == 4
    assert data["per_class_counts"]["movement"] == {"tilt_up": 2, "dolly_in": 2}
    assert len((out / "labels.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    bad = run_cli("simulate", str(tmp_path / "x"), "--per-class", "1", "--scheme", "nope", "--json")
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("error: nope: ")


def test_passers_by_are_an_option_recorded_with_the_set(tmp_path):
    """`passers_by`: in that share of shots (not rack focus) a stranger walks across the view; the
    scene description lists them and the folder's settings keep the share. The shot's own draws
    stay as they were: the same clips, cameras and captions' classes as without."""
    # any tracking: a passer-by may change which try of a tracking shot travels enough
    plain = simulate_dataset(tmp_path / "plain", per_class=2, seed=5, readable_tracking=False, **SMALL)
    crowd = simulate_dataset(tmp_path / "crowd", per_class=2, seed=5, passers_by=1.0, readable_tracking=False, **SMALL)
    assert plain["clips"] == crowd["clips"] == 40
    recs = {k: [json.loads(x) for x in (tmp_path / k / LABELS).read_text(encoding="utf-8").splitlines()]
            for k in ("plain", "crowd")}
    passing = [r for r in recs["crowd"] if "person passing by" in r["scene"]["objects"]]
    assert len(passing) >= 20 and all(r["movement"] != "rack_focus" for r in passing)
    assert not [r for r in recs["plain"] if "person passing by" in r["scene"]["objects"]]
    for a, b in zip(recs["plain"], recs["crowd"]):
        assert (a["file"], a["seed"], a["trajectory"]) == (b["file"], b["seed"], b["trajectory"])
    assert json.loads((tmp_path / "crowd" / "simulate.json").read_text())["passers_by"] == 1.0
    with pytest.raises(UserInputError):  # the folder was made without passers-by
        simulate_dataset(tmp_path / "plain", per_class=2, seed=5, passers_by=0.5, readable_tracking=False, **SMALL)
    with pytest.raises(UserInputError):
        simulate_dataset(tmp_path / "bad", per_class=1, seed=5, passers_by=-0.1, **SMALL)


def test_readable_tracking_keeps_tracking_shots_whose_background_moves(tmp_path):
    """With `readable_tracking` no tracking shot is an extreme close-up (the face fills the frame:
    nothing shows the camera travelling) and a tracking shot's picture visibly travels
    (`picture_motion`: a sharp subject that stays put must not outweigh the background), which the
    labels record."""
    plans = plan_dataset(20, seed=3, readable_tracking=True)
    assert not [p for p in plans if p.framing == "extreme_close_up" and p.movement == "tracking"]
    assert plan_dataset(20, seed=3) == plans  # the default since the tenth session
    assert [p for p in plan_dataset(20, seed=3, readable_tracking=False)
            if p.framing == "extreme_close_up" and p.movement == "tracking"]
    counts = Counter(p.movement for p in plans)
    assert max(counts.values()) - min(counts.values()) <= 2, counts
    from cinestudio.camerasim.dataset import MIN_PICTURE_MOTION

    scheme = tiny_scheme(tmp_path, movement=("static", "tracking"))
    simulate_dataset(tmp_path / "t", per_class=3, seed=2, scheme=scheme, readable_tracking=True, size=64, frames=16,
                     fps=8)
    recs = [json.loads(x) for x in (tmp_path / "t" / LABELS).read_text(encoding="utf-8").splitlines()]
    tracking = [r for r in recs if r["movement"] == "tracking"]
    # when none of a shot's tries travels enough, the one that travels most is kept
    assert len(tracking) >= 6 and sum(r["picture_motion"] >= MIN_PICTURE_MOTION for r in tracking) >= 0.75 * len(tracking)
    assert not [r for r in recs if r["movement"] != "tracking" and "picture_motion" in r]
