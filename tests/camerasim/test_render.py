"""Rendered shots: shapes, determinism, and that the pixels show what the labels say."""

import numpy as np
import pytest

from cinestudio.camerasim.render import Renderer
from cinestudio.camerasim.shot import ShotSpec, assemble_scene, plan_shot, render_shot
from cinestudio.errors import UnknownClassError

from .measure import phase_shift, sharpness, similarity

FRAMINGS = ["extreme_close_up", "close_up", "medium_shot", "long_shot", "extreme_long_shot"]


def test_shapes_dtype_and_per_frame_camera():
    shot = render_shot(ShotSpec("medium_shot", "high_angle", ["pan_left", "zoom_in"], frames=7, size=(80, 48), seed=1))
    assert shot.frames.shape == (7, 48, 80, 3) and shot.frames.dtype == np.uint8
    assert len(shot.camera) == 7
    for key in ("position", "yaw", "pitch", "roll", "focal_mm", "focus_m", "f_number", "hfov", "vfov"):
        assert key in shot.camera[0]
    # pan first, then zoom: yaw changes in the first half, focal length in the second
    assert shot.camera[3]["focal_mm"] == pytest.approx(shot.camera[0]["focal_mm"])
    assert shot.camera[-1]["focal_mm"] > shot.camera[3]["focal_mm"] * 1.1
    assert shot.camera[3]["yaw"] < shot.camera[0]["yaw"] - 3  # pan left: yaw decreases
    assert shot.frames.std() > 5  # not a blank picture


def test_same_seed_same_frames_other_seed_other_frames():
    spec = ShotSpec("long_shot", "eye_level", ["dolly_in"], frames=4, size=48, seed=11)
    a, b = render_shot(spec), render_shot(spec)
    assert np.array_equal(a.frames, b.frames) and a.camera == b.camera
    c = render_shot(ShotSpec("long_shot", "eye_level", ["dolly_in"], frames=4, size=48, seed=12))
    assert not np.array_equal(a.frames, c.frames)


def test_unknown_classes_are_user_errors():
    with pytest.raises(UnknownClassError):
        render_shot(ShotSpec("medium_shot", "eye_level", ["moonwalk"]))
    with pytest.raises(UnknownClassError):
        render_shot(ShotSpec("huge_shot", "eye_level", ["static"]))


def test_framing_orders_the_subject_size_in_frame():
    """Closer framings show a bigger subject: rendered coverage and projected height."""
    areas = {f: [] for f in FRAMINGS}
    heights = {f: [] for f in FRAMINGS}
    for seed in range(3):
        for f in FRAMINGS:
            shot = render_shot(ShotSpec(f, "eye_level", ["static"], frames=1, size=64, seed=seed, subject=True,
                                        want_masks=True))
            areas[f].append(float(shot.subject_masks[0].mean()))
            cam = shot.camera[0]
            heights[f].append(shot.params["subject"]["height"] / cam["visible_height"])
    mean_area = [np.mean(areas[f]) for f in FRAMINGS]
    mean_height = [np.mean(heights[f]) for f in FRAMINGS]
    assert all(a > b for a, b in zip(mean_height, mean_height[1:])), mean_height
    assert all(a >= b for a, b in zip(mean_area, mean_area[1:])), mean_area
    assert mean_area[0] > 0.85  # a face fills an extreme close-up
    assert mean_area[2] > 0.15 and mean_area[3] < 0.2 and mean_area[4] < 0.02
    # whole body in a long shot: the subject's projected height is within the frame
    assert all(0.15 < h < 0.6 for h in heights["long_shot"])


def _horizon_row(spec: ShotSpec):
    """Row where the ground starts in the centre column (None: no sky or no ground there)."""
    rng = np.random.default_rng(spec.seed)
    plan = plan_shot(spec, rng)
    scene = assemble_scene(rng, plan)
    _, depth = Renderer(spec.width, spec.height).background(scene, plan.path.cameras[0])
    col = np.isfinite(depth[:, spec.width // 2])
    if col.all() or not col.any():
        return None, col.all()
    return int(np.argmax(col)), False


def test_angle_moves_the_horizon_the_right_way():
    """Pitching the camera down (high angle) raises the horizon in frame; up (low angle) lowers it."""
    H = 96
    for seed in range(3):
        row, _ = _horizon_row(ShotSpec("long_shot", "eye_level", ["static"], size=H, seed=seed, environment="outdoor"))
        assert row is not None and abs(row - H / 2) < H * 0.12
        row, all_ground = _horizon_row(ShotSpec("long_shot", "high_angle", ["static"], size=H, seed=seed,
                                                environment="outdoor"))
        assert all_ground or row < H / 2 - H * 0.1
        row, all_ground = _horizon_row(ShotSpec("long_shot", "low_angle", ["static"], size=H, seed=seed,
                                                environment="outdoor"))
        assert not all_ground and (row is None or row > H / 2 + H * 0.1)
        _, all_ground = _horizon_row(ShotSpec("long_shot", "overhead", ["static"], size=H, seed=seed,
                                              environment="outdoor"))
        assert all_ground


@pytest.mark.parametrize("move,check", [
    ("pan_left", lambda m: m["dx"] > 10), ("pan_right", lambda m: m["dx"] < -10),
    ("tilt_up", lambda m: m["dy"] > 8), ("tilt_down", lambda m: m["dy"] < -8),
    ("zoom_in", lambda m: m["scale"] > 1.12), ("zoom_out", lambda m: m["scale"] < 1 / 1.12),
    ("dolly_in", lambda m: m["scale"] > 1.08), ("dolly_out", lambda m: m["scale"] < 1 / 1.08),
    ("truck_left", lambda m: m["dx"] > 8), ("truck_right", lambda m: m["dx"] < -8),
    ("pedestal_up", lambda m: m["dy"] > 8), ("pedestal_down", lambda m: m["dy"] < -8),
    ("roll_clockwise", lambda m: m["rotation"] < -5), ("roll_anticlockwise", lambda m: m["rotation"] > 5),
    ("static", lambda m: abs(m["dx"]) < 1.5 and abs(m["dy"]) < 1.5 and abs(m["scale"] - 1) < 0.02),
])
def test_rendered_motion_has_the_labelled_direction(move, check):
    for seed in range(2):
        shot = render_shot(ShotSpec("medium_shot", "eye_level", [move], frames=8, size=96, seed=seed))
        m = similarity(shot.frames)
        assert check(m), (move, seed, m)


def test_pans_by_phase_correlation():
    for seed in range(2):
        left = render_shot(ShotSpec("long_shot", "eye_level", ["pan_left"], frames=8, size=96, seed=seed))
        right = render_shot(ShotSpec("long_shot", "eye_level", ["pan_right"], frames=8, size=96, seed=seed))
        assert phase_shift(left.frames)[0] > 8 and phase_shift(right.frames)[0] < -8


def _subject_vs_background_scale(shot):
    masks = shot.subject_masks
    subject = float(np.sqrt(masks[-1].sum() / masks[0].sum()))
    background = similarity(shot.frames, masks)["scale"]
    return subject / background


def test_dolly_shows_parallax_zoom_does_not():
    """Both enlarge the subject; only the dolly enlarges it more than the farther background."""
    for seed in range(3):
        kw = dict(frames=8, size=128, seed=seed, environment="outdoor", want_masks=True)
        zoom = _subject_vs_background_scale(render_shot(ShotSpec("full_shot", "eye_level", ["zoom_in"], **kw)))
        dolly = _subject_vs_background_scale(render_shot(ShotSpec("full_shot", "eye_level", ["dolly_in"], **kw)))
        assert abs(zoom - 1) < 0.03, zoom
        assert dolly > 1.05, dolly


def test_rack_focus_changes_the_subjects_sharpness():
    for seed in range(3):
        shot = render_shot(ShotSpec("medium_shot", "eye_level", ["rack_focus"], frames=8, size=128, seed=seed,
                                    want_masks=True))
        rk = shot.params["rack_focus"]
        depth = shot.params["subject_depth"]
        starts_on_subject = abs(rk["from"] - depth) < abs(rk["to"] - depth)
        s0 = sharpness(shot.frames[0], shot.subject_masks[0])
        s1 = sharpness(shot.frames[-1], shot.subject_masks[-1])
        assert (s0 > 1.5 * s1) if starts_on_subject else (s1 > 1.5 * s0), (seed, rk, s0, s1)
        # the camera itself does not move
        assert shot.camera[0]["position"] == shot.camera[-1]["position"]
        assert shot.camera[0]["focus_m"] != shot.camera[-1]["focus_m"]


def test_tracking_keeps_the_subject_while_the_background_slides():
    for seed in range(2):
        shot = render_shot(ShotSpec("long_shot", "eye_level", ["tracking"], frames=16, size=96, seed=seed,
                                    environment="outdoor", want_masks=True))
        m0, m1 = shot.subject_masks[0], shot.subject_masks[-1]
        xs = np.arange(m0.shape[1])
        c0 = (m0.sum(0) * xs).sum() / m0.sum()
        c1 = (m1.sum(0) * xs).sum() / m1.sum()
        assert abs(c1 - c0) < 3
        # the ground near the subject (bottom of the frame) slides past (or, when the camera
        # follows from behind or in front, streams towards or away from it); far hills may not
        ground = similarity(shot.frames, shot.subject_masks, rows=(0.75, 1.0))
        if shot.params["moves"][0]["lateral"]:
            assert abs(ground["dx"]) > 6, ground
        else:
            assert abs(ground["scale"] - 1) > 0.03 or abs(ground["dy"]) > 4, ground


def test_reference_image_planar_moves():
    rng = np.random.default_rng(0)
    still = (rng.random((90, 160, 3)) * 255).astype(np.uint8)
    still = np.repeat(np.repeat(still, 4, 0), 4, 1)  # blocky: trackable
    left = render_shot(ShotSpec("medium_shot", "eye_level", ["pan_left"], frames=6, size=96, reference_image=still))
    assert left.frames.shape == (6, 96, 96, 3)
    assert similarity(left.frames)["dx"] > 8
    zoom = render_shot(ShotSpec("medium_shot", "eye_level", ["zoom_in"], frames=6, size=96, reference_image=still))
    assert similarity(zoom.frames)["scale"] > 1.15
    rack = render_shot(ShotSpec("medium_shot", "eye_level", ["rack_focus"], frames=6, size=96,
                                reference_image=still))
    assert not np.array_equal(rack.frames[0], rack.frames[-1])


def test_hard_combinations_render_without_numeric_trouble():
    import warnings

    hard = [("extreme_long_shot", "worms_eye", "pedestal_down"), ("extreme_close_up", "overhead", "roll_clockwise"),
            ("long_shot", "eye_level", "crane_up"), ("extreme_close_up", "worms_eye", "arc_left"),
            ("medium_close_up", "dutch_angle", "handheld")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, (f, a, m) in enumerate(hard):
            for env in ("outdoor", "indoor"):
                shot = render_shot(ShotSpec(f, a, [m], frames=5, size=48, seed=i, environment=env))
                assert shot.frames.shape == (5, 48, 48, 3)
                assert min(c["position"][1] for c in shot.camera) >= 0.05


def test_half_of_daylight_clips_are_clean_night_ones_always_noisy():
    """Real footage reaches the model downscaled, its noise averaged away: clean is the common case."""
    from cinestudio.camerasim.scene import make_post_fx

    rng = np.random.default_rng(0)
    day = np.array([make_post_fx(rng, "day").noise for _ in range(400)])
    night = np.array([make_post_fx(rng, "night").noise for _ in range(100)])
    assert 0.4 < (day == 0).mean() < 0.6
    assert day[day > 0].min() >= 0.002 and day.max() <= 0.025
    assert (night >= 0.004).all()
