"""The camera model and its label definitions, checked geometrically (no rendering)."""

import itertools
import math
import zlib

import numpy as np
import pytest

from cinestudio.camerasim.camera import (ANGLE_SPECS, FRAMING_VISIBLE_HEIGHT, Camera, MoveParams, PathContext,
                                         angle_ok, apply_move, frame_subject, rotation_c2w, scale_ratio,
                                         ypr_from_c2w)
from cinestudio.camerasim.shot import ShotSpec, assemble_scene, picture_motion, plan_shot, shot_rng
from cinestudio.errors import UserInputError
from cinestudio.taxonomy import load_taxonomy

W = H = 128
CAM = Camera((0.0, 1.6, -5.0), yaw=0.0, pitch=0.0, roll=0.0, focal_mm=35.0)
CTX = PathContext(W, H, np.array([0.0, 1.6, 0.0]), 5.0)


def project(cam, pts):
    uv, z = cam.project(np.asarray(pts, float), W, H)
    assert (z > 0).all()
    return uv


def test_conventions_yaw_right_pitch_up_roll_clockwise():
    ahead = [[0.0, 1.6, 0.0]]
    # yaw +10: the camera turns right, so a point straight ahead appears left of centre
    assert project(CAM.replace(yaw=10.0), ahead)[0, 0] < (W - 1) / 2 - 5
    # pitch +10: the camera looks up, so the point appears below centre (image y grows down)
    assert project(CAM.replace(pitch=10.0), ahead)[0, 1] > (H - 1) / 2 + 5
    # roll +10 (clockwise from behind): a point right of centre rises on screen
    right = [[1.0, 1.6, 0.0]]
    assert project(CAM.replace(roll=10.0), right)[0, 1] < project(CAM, right)[0, 1] - 2


def test_ypr_round_trip():
    for yaw, pitch, roll in itertools.product((-170.0, -30.0, 0.0, 45.0), (-80.0, -20.0, 0.0, 60.0), (-25.0, 0.0, 12.0)):
        assert np.allclose(ypr_from_c2w(rotation_c2w(yaw, pitch, roll)), (yaw, pitch, roll), atol=1e-6)


@pytest.mark.parametrize("kind,amount,expect", [
    ("pan_left", 10, "right"), ("pan_right", 10, "left"), ("tilt_up", 10, "down"), ("tilt_down", 10, "up"),
    ("truck_left", 1.0, "right"), ("truck_right", 1.0, "left"), ("pedestal_up", 1.0, "down"),
    ("pedestal_down", 1.0, "up"), ("zoom_in", 1.5, "grow"), ("zoom_out", 1.5, "shrink"),
    ("dolly_in", 1.5, "grow"), ("dolly_out", 1.5, "shrink"),
])
def test_moves_push_content_the_taxonomy_way(kind, amount, expect):
    pts = np.array([[0.0, 1.6, 0.0], [0.5, 2.1, 0.0]])
    cam, _ = apply_move(CAM, MoveParams(kind, amount), 1.0, CTX)
    a, b = project(CAM, pts), project(cam, pts)
    d = b[0] - a[0]
    size_a, size_b = np.linalg.norm(a[1] - a[0]), np.linalg.norm(b[1] - b[0])
    if expect == "right":
        assert d[0] > 5
    elif expect == "left":
        assert d[0] < -5
    elif expect == "down":
        assert d[1] > 5
    elif expect == "up":
        assert d[1] < -5
    elif expect == "grow":
        assert size_b > size_a * 1.3
    else:
        assert size_b < size_a / 1.3


def test_roll_clockwise_turns_content_anticlockwise_and_arc_keeps_target():
    cam, _ = apply_move(CAM, MoveParams("roll_clockwise", 15), 1.0, CTX)
    centre = np.array([(W - 1) / 2, (H - 1) / 2])
    v0 = project(CAM, [[1.0, 1.6, 0.0]])[0] - centre
    v1 = project(cam, [[1.0, 1.6, 0.0]])[0] - centre
    # on screen (y down), anticlockwise means the angle measured with atan2(-y, x) grows
    assert math.atan2(-v1[1], v1[0]) > math.atan2(-v0[1], v0[0]) + math.radians(10)
    for kind in ("arc_left", "arc_right"):
        arc, _ = apply_move(CAM, MoveParams(kind, 30), 1.0, CTX)
        assert np.allclose(project(arc, [[0.0, 1.6, 0.0]])[0], centre, atol=0.5)
        # arc_left: the camera moves to its own left
        moved = np.asarray(arc.position) - np.asarray(CAM.position)
        assert (moved @ CAM.right < 0) == (kind == "arc_left")


@pytest.mark.parametrize("framing,angle", list(itertools.product(FRAMING_VISIBLE_HEIGHT, ANGLE_SPECS)))
def test_frame_subject_lands_in_its_classes(framing, angle):
    rng = np.random.default_rng(zlib.crc32(f"{framing}/{angle}".encode()))
    fr = frame_subject(rng, framing, angle, W, H)
    lo, hi = FRAMING_VISIBLE_HEIGHT[framing]
    assert lo * 0.999 <= fr.camera.visible_height_at(fr.subject_depth, W, H) <= hi * 1.001
    assert angle_ok(angle, fr.camera)
    assert fr.camera.height >= 0.05


def test_every_frame_of_a_planned_path_stays_in_class():
    tax = load_taxonomy("extended")
    for i, move in enumerate(tax.keys("movement")):
        framing = tax.keys("framing")[i % 7]
        angle = tax.keys("angle")[i % 6]
        spec = ShotSpec(framing, angle, [move], frames=8, size=W, seed=i)
        plan = plan_shot(spec, np.random.default_rng(i))
        for cam, off in zip(plan.path.cameras, plan.path.subject_offsets):
            assert angle_ok(angle, cam), (move, angle, cam)
            v = cam.visible_height_at(cam.depth_of(plan.target + off), W, H)
            lo, hi = FRAMING_VISIBLE_HEIGHT[framing]
            s = plan.subject_height / 1.75
            assert lo * s * 0.99 <= v <= hi * s * 1.01, (move, framing, v)


def test_zoom_speed_does_not_tell_a_zoom_from_a_dolly():
    """A dolly's background grows less than its subject, so zooms drawn like dollies were always
    the faster picture; zooms now also come slower than any dolly."""
    rng = np.random.default_rng(0)
    zooms = [scale_ratio(rng, "zoom_in") for _ in range(400)]
    dollies = [scale_ratio(rng, "dolly_in") for _ in range(400)]
    assert min(zooms) < 1.15 < 1.25 <= min(dollies)
    assert max(zooms) > 1.55 and max(dollies) > 1.55
    plan = plan_shot(ShotSpec("medium_shot", "eye_level", ["zoom_out"], frames=5, size=64, seed=4),
                     np.random.default_rng(4))
    assert plan.path.moves[0].amount >= 1.05


@pytest.mark.parametrize("move", ["static", "zoom_in"])
def test_shake_wobbles_every_frame_and_keeps_the_move(move):
    def path(shake):
        spec = ShotSpec("medium_shot", "eye_level", [move], frames=16, size=64, seed=11, shake=shake)
        return plan_shot(spec, np.random.default_rng(11)).path.cameras

    steady, shaky = path(0.0), path(0.4)
    yaw = lambda cams: np.array([c.yaw for c in cams])  # noqa: E731
    pitch = lambda cams: np.array([c.pitch for c in cams])  # noqa: E731
    assert np.ptp(yaw(steady)) < 1e-6 and np.ptp(pitch(steady)) < 1e-6
    wobble = np.hypot(yaw(shaky) - yaw(steady), pitch(shaky) - pitch(steady))
    hfov = steady[0].fov(64, 64)[0]
    assert 0.001 * hfov < wobble.max() < 0.03 * hfov  # a steady hand: well under the handheld class
    assert (wobble[1:] > 0).all()
    # the move itself is untouched: same focal lengths, positions within the wobble's few centimetres
    assert [c.focal_mm for c in shaky] == [c.focal_mm for c in steady]
    assert max(np.linalg.norm(np.subtract(a.position, b.position)) for a, b in zip(shaky, steady)) < 0.1


def test_shake_moves_a_near_subject_against_the_far_background():
    """A hand that holds the camera also shifts it: the subject at 1-2 m wobbles against the
    distance (parallax) by one or two pixels at 64 px, as a hand-held dolly past a real near
    object does; a camera that only turned would keep them together."""
    wobbles = []
    for seed in range(6):
        def plan(shake):
            spec = ShotSpec("medium_shot", "eye_level", ["dolly_in"], frames=16, size=64, seed=seed, shake=shake)
            return plan_shot(spec, np.random.default_rng(seed))
        steady, shaky = plan(0.0), plan(0.3)
        near, far = steady.target, steady.target + steady.path.cameras[0].rotation()[2] * 200.0
        rel = []
        for a, b in zip(steady.path.cameras, shaky.path.cameras):
            moved = b.project(np.stack([near, far]), 64, 64)[0] - a.project(np.stack([near, far]), 64, 64)[0]
            rel.append(np.linalg.norm(moved[0] - moved[1]))
        wobbles.append(max(rel))
    assert 1.0 < np.median(wobbles) < 2.5, wobbles


def test_a_hand_held_extreme_close_up_drifts_no_more_than_a_close_up():
    """The hand's drift is measured against the subject's size: four centimetres across a 10 cm
    slice of face jumped the picture by a fifth of the frame between sampled frames and hid the
    move; an extreme close-up now wobbles about as much as a close-up."""
    def jump(framing, seed):
        def plan(shake):
            spec = ShotSpec(framing, "eye_level", ["static"], frames=16, size=64, seed=seed, shake=shake)
            return plan_shot(spec, np.random.default_rng(seed))
        steady, shaky = plan(0.0), plan(0.5)
        uv = np.array([cam.project(steady.target[None], 64, 64)[0][0] for cam in shaky.path.cameras])
        return np.abs(uv[2:] - uv[:-2]).max()  # CameraCLIP samples every other frame of 16

    ecu = np.median([jump("extreme_close_up", s) for s in range(8)])
    cu = np.median([jump("close_up", s) for s in range(8)])
    medium = np.median([jump("medium_shot", s) for s in range(8)])
    assert ecu < 1.3 * cu and ecu < 8.0, (ecu, cu)
    assert 1.5 < medium < 4.0  # wider shots keep their drift (and its parallax)


def test_an_extreme_long_tracking_shot_always_has_someone_to_follow():
    """A quarter of extreme long shots show no one; a tracking shot without a subject would be a
    truck labelled tracking."""
    def subjects(move):
        return [plan_shot(ShotSpec("extreme_long_shot", "eye_level", [move], frames=3, size=32, seed=s),
                          np.random.default_rng(s)).subject for s in range(40)]

    assert all(subjects("tracking"))
    assert not all(subjects("static"))  # other moves still sometimes show an empty landscape


@pytest.mark.parametrize("framing", ["medium_shot", "long_shot", "close_up"])
def test_a_subject_walks_across_a_still_camera_and_stays_in_frame(framing):
    """Real static shots are full of people who move: with `subject_walks`, the simulator's subject
    walks on its own in that share of shots while the camera does its own move — here none."""
    walked = 0
    for seed in range(6):
        plan = plan_shot(ShotSpec(framing, "eye_level", ["static"], frames=8, size=64, seed=seed, subject_walks=1.0),
                         np.random.default_rng(seed))
        cams, offsets = plan.path.cameras, plan.path.subject_offsets
        assert {(c.position, c.yaw, c.pitch, c.focal_mm) for c in cams} == {(cams[0].position, cams[0].yaw,
                                                                             cams[0].pitch, cams[0].focal_mm)}
        if plan.walk_dir is None:
            assert not offsets.any()  # it would have left the frame: it stands still instead
            continue
        walked += 1
        u = np.array([c.project((plan.target + o)[None], 64, 64)[0][0, 0] for c, o in zip(cams, offsets)])
        assert ((0.12 * 64 <= u) & (u <= 0.88 * 64)).all()
        assert abs(u[-1] - u[0]) >= 0.04 * 64 and abs(offsets[:, 1]).max() < 1e-9  # sideways, on the ground
        assert np.all(np.diff(u) * np.sign(u[-1] - u[0]) >= -1e-9)  # one way
    assert walked >= 3

    plan = plan_shot(ShotSpec(framing, "eye_level", ["static"], frames=8, size=64, seed=0), np.random.default_rng(0))
    assert plan.walk_dir is None and not plan.path.subject_offsets.any()  # off by default
    with pytest.raises(UserInputError):
        plan_shot(ShotSpec(framing, "eye_level", ["static"], frames=8, size=64, subject_walks=1.5),
                  np.random.default_rng(0))


@pytest.mark.parametrize("framing", ["medium_shot", "long_shot"])
def test_a_passer_by_crosses_the_view_at_about_the_subjects_distance(framing):
    """`passers_by`: a stranger walks mostly sideways through the view, half-way through the clip
    in the frame's middle part, at 0.8-2x the subject's distance; never in a rack focus shot."""
    crossed = 0
    for seed in range(5):
        spec = ShotSpec(framing, "eye_level", ["static"], frames=8, size=64, fps=8, seed=seed, passers_by=1.0)
        rng = shot_rng(seed)
        plan = plan_shot(spec, rng)
        scene = assemble_scene(rng, plan)
        groups = [g for g in scene.groups if g.name == "person passing by"]
        if not groups:
            continue
        crossed += 1
        cam = plan.path.cameras[0]
        mover = scene.movers[groups[0].mover]
        mid = groups[0].anchor + mover.offset(4, 0.5)
        u, z = cam.project(mid[None], 64, 64)
        assert 0.05 * 64 <= u[0, 0] <= 0.95 * 64 and z[0] > 0
        assert 0.8 * max(plan.subject_depth, 1.0) - 1.0 <= cam.depth_of(mid) <= 2 * max(plan.subject_depth, 1.0) + 4
        right = cam.c2w()[:, 0]
        v = mover.velocity / np.linalg.norm(mover.velocity)
        assert abs(float(np.dot(v, right))) > 0.8  # sideways across the view
    assert crossed >= 3
    spec = ShotSpec(framing, "eye_level", ["rack_focus"], frames=8, size=64, seed=0, passers_by=1.0)
    rng = shot_rng(0)
    assert not [g for g in assemble_scene(rng, plan_shot(spec, rng)).groups if g.name == "person passing by"]
    with pytest.raises(UserInputError):
        plan_shot(ShotSpec(framing, "eye_level", ["static"], frames=8, size=64, passers_by=1.5), np.random.default_rng(0))


def test_picture_motion_is_still_for_a_still_camera_and_moves_with_a_pan():
    """`picture_motion` (frame widths per frame, robust to a small moving part): ~0 for a tripod
    shot, about the pan's rate for a pan."""
    def motion(move):
        spec = ShotSpec("long_shot", "eye_level", [move], frames=16, size=64, fps=8, seed=4)
        rng = shot_rng(4)
        plan = plan_shot(spec, rng)
        return picture_motion(spec, plan, assemble_scene(rng, plan))

    assert motion("static") < 0.0005
    assert motion("pan_left") > 0.004
