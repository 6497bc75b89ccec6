"""Diffusion renders through the job system on the tiny CameraDiff pipeline (CPU, one thread)."""

from __future__ import annotations

import pytest

from cinestudio.progress import Cancelled
from cinestudio.store import open_workspace
from cinestudio.storyboard import service
from cinestudio.storyboard.model import Shot
from cinestudio.storyboard.score import summarise

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny random AnimateDiff base and a folder with one (random, so visible) pan_right LoRA."""
    from cinestudio.cameradiff import lora as L
    from cinestudio.cameradiff.backend import load_pipeline
    from cinestudio.cameradiff.tiny import make_tiny

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("diff")
    make_tiny(root / "tiny", seed=0, preset="test")
    pipe = load_pipeline(root / "tiny", device="cpu")
    L.add_lora(pipe.unet, "pan_right", rank=4, target="motion")
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in L.lora_parameters(pipe.unet, "pan_right").items():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    (root / "loras").mkdir()
    L.save_lora(root / "loras" / "pan_right.safetensors", pipe.unet, "pan_right",
                {"key": "pan_right", "axis": "movement", "target": "motion", "rank": 4, "base": str(root / "tiny"),
                 "steps": 0})
    torch.set_num_threads(before)
    return root


def _board(store, tiny, name="Diffusion"):
    board = service.create_board(store, name, fps=8, width=32, height=32, shots=[
        Shot("Pan", "a park", "long_shot", "eye_level", ["pan_right"], 6, "frames", seed=3, id="sd000001")])
    board.diffusion = {"base": str(tiny / "tiny"), "loras": str(tiny / "loras"), "method": "merge", "steps": 2,
                       "frames": 6}
    return service.save_board(store, board)


def test_diffusion_render_runs_one_job_per_shot_and_caches(tiny, tmp_path):
    from cinestudio.storyboard.diffusion import DiffusionBackend

    with open_workspace(tmp_path / "ws") as store:
        board = _board(store, tiny)
        backend = DiffusionBackend(store, device="cpu", threads=1, timeout_s=240)
        seen = []
        renders = service.render_shots(store, board, "diffusion", backend_impl=backend,
                                       progress=lambda d, t, m="": seen.append((d, t, m)))
        assert renders.fresh == {"sd000001"} and len(backend.jobs) == 1
        job = store.jobs.get(backend.jobs[0])
        assert (job.kind, job.state) == ("render", "succeeded") and job.result["frames"] == 6
        assert any("job" in m for _, _, m in seen)
        rec = renders["sd000001"]
        assert rec.backend == "diffusion" and rec.frames == 6 and rec.job_id == job.id
        details = rec.details
        assert details["loras"] == {"pan_right": 1.0} and details["method"] == "merge"
        assert "no LoRA for long_shot" in details["notes"]
        assert len(details["lora_schedule"]) == 2                       # one row of multipliers per step
        # unchanged: no second job
        again = service.render_shots(store, board, "diffusion", backend_impl=DiffusionBackend(store, device="cpu"))
        assert again.fresh == set() and store.jobs.count_by_state()["succeeded"] == 1
        sidecar = service.export_active(store, board, tmp_path / "out", formats=("mp4", "json"), check_motion=False)
        shot = sidecar["shots"][0]
        assert sidecar["backend"] == "diffusion" and shot["loras"] == {"pan_right": 1.0}
        assert shot["lora_schedule"] and shot["seed"] == 3 and shot["frames"] == 6


def test_cancel_stops_the_batch(tiny, tmp_path):
    from cinestudio.storyboard.diffusion import DiffusionBackend

    with open_workspace(tmp_path / "ws") as store:
        board = _board(store, tiny, "Cancelled")
        backend = DiffusionBackend(store, device="cpu", threads=1, timeout_s=120)
        with pytest.raises(Cancelled):
            service.render_shots(store, board, "diffusion", backend_impl=backend, should_stop=lambda: True)
        assert store.jobs.get(backend.jobs[0]).state == "cancelled"
        assert store.storyboards.active_renders(board.id) == {}


def test_cameraclip_summary_of_a_shot():
    ranked = {"framing": [{"key": "long_shot", "score": 0.7, "similarity": 0.3},
                          {"key": "close_up", "score": 0.3, "similarity": 0.1}],
              "angle": [{"key": "high_angle", "score": 0.6}, {"key": "eye_level", "score": 0.4}],
              "movement": [{"key": "pan_right", "score": 0.9}, {"key": "static", "score": 0.1}]}
    out = summarise(ranked, Shot(framing="long_shot", angle="eye_level", movements=["pan_right"]))
    assert out["framing"]["intended"][0] == {"key": "long_shot", "score": 0.7, "similarity": 0.3, "rank": 1}
    assert out["angle"]["top"] == "high_angle" and out["angle"]["intended"][0]["rank"] == 2
    assert out["mean_intended_score"] == pytest.approx((0.7 + 0.4 + 0.9) / 3, abs=1e-4)
