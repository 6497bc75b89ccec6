"""Labels the picture supports: moves that show, zooms and dollies told apart, and the data set's retries."""

import json

import numpy as np
import pytest

from cinestudio.camerasim import dataset as ds
from cinestudio.camerasim import shot as sh
from cinestudio.camerasim.camera import SCALE_MOVES


def _planned(framing, angle, movement, seed, size=48):
    spec = sh.ShotSpec(framing, angle, [movement], frames=6, size=size, seed=seed)
    rng = sh.shot_rng(seed)
    plan = sh.plan_shot(spec, rng)
    return spec, plan, sh.assemble_scene(rng, plan)


@pytest.mark.parametrize("movement", ["zoom_in", "zoom_out", "dolly_in", "dolly_out"])
def test_stand_ins_frame_the_subject_as_the_shot_ends(movement):
    spec, plan, _ = _planned("medium_shot", "eye_level", movement, seed=11)
    first, last = plan.path.cameras[0], plan.path.cameras[-1]
    target = plan.target + plan.path.subject_offsets[-1]
    zoom, dolly = sh.zoom_dolly_stand_ins(plan)
    # the subject's scale in the picture (pixels per metre at its depth) is the shot's last one
    def scale(cam):
        return cam.focal_mm / cam.depth_of(target)
    assert scale(zoom) == pytest.approx(scale(last), rel=1e-6)
    assert scale(dolly) == pytest.approx(scale(last), rel=1e-6)
    # the zoom stays where the shot started; the dolly keeps the first lens; both look alike
    assert np.allclose(zoom.position, first.position)
    assert dolly.focal_mm == pytest.approx(first.focal_mm)
    assert np.allclose(zoom.rotation(), last.rotation()) and np.allclose(dolly.rotation(), last.rotation())
    assert scale(first) != pytest.approx(scale(last), rel=0.05)  # the shot does scale


@pytest.mark.parametrize("movement,index", [("zoom_in", 0), ("dolly_out", 1)])
def test_the_stand_in_of_the_shots_own_move_is_its_last_frame(movement, index):
    """The contrast compares the shot's own last frame (sharp, no grain) with the other move's."""
    spec, plan, scene = _planned("long_shot", "eye_level", movement, seed=4)
    last = plan.path.cameras[-1]
    r = sh.renderer_for(spec.width, spec.height)
    i = len(plan.path.cameras) - 1
    own = r.render(scene, last.replace(f_number=64.0), i, i / spec.fps, plan.path.subject_offsets[i])[0]
    stand_in = sh.zoom_dolly_stand_ins(plan)[index]
    mine = r.render(scene, stand_in, i, i / spec.fps, plan.path.subject_offsets[i])[0]
    other = r.render(scene, sh.zoom_dolly_stand_ins(plan)[1 - index], i, i / spec.fps, plan.path.subject_offsets[i])[0]
    assert np.abs(own.astype(float) - mine).mean() < 0.5
    assert np.abs(own.astype(float) - other).mean() > 2.0
    assert sh.zoom_dolly_contrast(spec, plan, scene) == pytest.approx(np.abs(mine.astype(float) - other).mean(),
                                                                      abs=1e-3)


def test_render_clip_retries_a_zoom_or_dolly_the_picture_cannot_tell(monkeypatch):
    contrasts = iter([1.0, 2.5, 9.0, 30.0])
    seen = []

    def fake(spec, plan, scene):
        seen.append(spec.seed)
        return next(contrasts)
    monkeypatch.setattr(ds, "zoom_dolly_contrast", fake)
    monkeypatch.setattr(ds, "move_contrast", lambda spec, plan, scene: 10.0)
    plan = ds.ClipPlan(0, "movement", "long_shot", "eye_level", "dolly_in", 1234, 0.0)
    shot = ds.render_clip(plan, frames=3, size=32, fps=8)
    assert len(seen) == 3 and shot.spec.seed == seen[2] and shot.params["zoom_dolly_contrast"] == 9.0
    # none passes: the most telling try is kept
    contrasts = iter([1.0, 3.5, 2.0, 0.5, 1.5, 0.1])
    seen.clear()
    shot = ds.render_clip(plan, frames=3, size=32, fps=8)
    assert len(seen) == 6 and shot.spec.seed == seen[1] and shot.params["zoom_dolly_contrast"] == 3.5
    # other moves are not asked to tell a zoom from a dolly
    seen.clear()
    shot = ds.render_clip(ds.ClipPlan(1, "movement", "long_shot", "eye_level", "pan_left", 99, 0.0), 3, 32, 8)
    assert not seen and "zoom_dolly_contrast" not in shot.params and shot.params["move_contrast"] == 10.0


def test_render_clip_retries_a_move_that_shows_nothing(monkeypatch):
    seen = []

    def fake(spec, plan, scene):
        seen.append(spec.seed)
        return [0.3, 0.8, 5.0][len(seen) - 1]
    monkeypatch.setattr(ds, "move_contrast", fake)
    shot = ds.render_clip(ds.ClipPlan(0, "movement", "close_up", "overhead", "tracking", 77, 0.0), 3, 32, 8,
                          readable_tracking=False)  # this test is about move_contrast alone
    assert len(seen) == 3 and shot.spec.seed == seen[2] and shot.params["move_contrast"] == 5.0
    seen.clear()
    shot = ds.render_clip(ds.ClipPlan(1, "movement", "close_up", "overhead", "static", 77, 0.3), 3, 32, 8)
    assert not seen and "move_contrast" not in shot.params  # a still picture is what static means


def test_move_contrast_is_nothing_for_a_still_camera_and_plain_for_a_pan():
    still = _planned("long_shot", "eye_level", "static", seed=5)
    pan = _planned("long_shot", "eye_level", "pan_left", seed=5)
    assert sh.move_contrast(*still) == 0.0
    assert sh.move_contrast(*pan) > 2 * ds.MIN_MOVE_CONTRAST


def test_simulated_zooms_and_dollies_record_their_contrast(tmp_path):
    ds.simulate_dataset(tmp_path / "d", per_class=1, seed=8, size=32, frames=3, fps=8)
    recs = [json.loads(x) for x in (tmp_path / "d" / ds.LABELS).read_text(encoding="utf-8").splitlines()]
    scaling = [r for r in recs if r["movement"] in SCALE_MOVES]
    assert scaling and all(isinstance(r["zoom_dolly_contrast"], float) for r in scaling)
    assert all(r["zoom_dolly_contrast"] is None for r in recs if r["movement"] not in SCALE_MOVES)
    assert all((r["move_contrast"] is None) == (r["movement"] == "static") for r in recs)
    assert np.median([r["zoom_dolly_contrast"] for r in scaling]) >= ds.MIN_ZOOM_DOLLY_CONTRAST


@pytest.mark.parametrize("movement", ["dolly_out", "tracking", "static"])
def test_render_clip_renders_the_chosen_draw_exactly_as_render_shot_would(movement):
    """render_clip reuses the plan and scene it measured: the frames are render_shot's for that seed."""
    shot = ds.render_clip(ds.ClipPlan(0, "movement", "medium_shot", "high_angle", movement, 321, 0.3), 4, 32, 8)
    again = sh.render_shot(shot.spec)
    assert np.array_equal(shot.frames, again.frames) and shot.camera == again.camera
