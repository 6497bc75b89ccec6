"""Start noise of a render: shared across frames, warped along the scheduled camera moves."""

from __future__ import annotations

import json

import numpy as np
import torch

from cinestudio.cameradiff.noise import frame_offsets, mixed_noise, warp_for


def test_frame_offsets_accumulate_changing_velocities():
    # pan left for 3 frames (content slides right), then tilt up (content slides down)
    v = [(0.7, 0.0)] * 3 + [(0.0, 0.7)] * 3
    assert frame_offsets(v) == [(0, 0), (1, 0), (1, 0), (2, 0), (2, 1), (2, 1)]
    assert frame_offsets([(0.5, 0.0)] * 4) == [(0, 0), (1, 0), (1, 0), (2, 0)]   # half up, not to even


def test_offsets_slide_the_common_pattern_and_shifts_are_the_constant_case():
    shape = (1, 2, 5, 6, 7)
    off = frame_offsets([warp_for("pan_right", 1.0)] * 4 + [warp_for("tilt_down", 1.0)])
    a = mixed_noise(shape, torch.Generator().manual_seed(2), 0.999999, offsets=[off])
    # frame k shows the field moved by its offset: where frame 0 shows a pixel, frame 1 shows it
    # one px to the left (a pan right moves the content left)
    assert torch.allclose(a[0, :, 1, :, :-1], a[0, :, 0, :, 1:], atol=5e-3)
    const = [frame_offsets([warp_for("tilt_up", 1.0)] * 5)]
    assert torch.equal(mixed_noise(shape, torch.Generator().manual_seed(4), 0.5, offsets=const),
                       mixed_noise(shape, torch.Generator().manual_seed(4), 0.5, [warp_for("tilt_up", 1.0)]))
    # share 0: exactly what an independent draw gives, whatever the offsets
    assert torch.equal(mixed_noise(shape, torch.Generator().manual_seed(1), 0.0, offsets=[off]),
                       torch.randn(shape, generator=torch.Generator().manual_seed(1)))


def test_render_with_a_warped_start_follows_the_schedule_records_it_and_replays(tiny_base, lora_files,
                                                                                tmp_path):
    from cinestudio.cameradiff.backend import load_pipeline
    from cinestudio.cameradiff.render import RenderConfig, render

    pipe = load_pipeline(tiny_base, device="cpu")
    common = dict(base=str(tiny_base), prompt="a scene", method="merge", steps=2, frames=8, size=16, seed=3,
                  gif=False, loras=[f"{lora_files['pan_left']}@0-4", f"{lora_files['close_up']}@4-8"])
    plain, f_plain = render(RenderConfig(out=str(tmp_path / "plain.mp4"), **common), pipe=pipe, return_frames=True)
    assert plain["config"]["noise_share"] == 0.0 and plain["config"]["noise_warp"] == 0.0   # not a train-base base
    warped, f_warped = render(RenderConfig(out=str(tmp_path / "warp.mp4"), noise_share=0.9, noise_warp=1.0,
                                           **common), pipe=pipe, return_frames=True)
    assert not np.array_equal(f_plain, f_warped)
    sidecar = json.loads((tmp_path / "warp.json").read_text())
    assert sidecar["config"]["noise_share"] == 0.9 and sidecar["config"]["noise_warp"] == 1.0
    # the noise slides right (a pan left's content) while pan_left is on, then stops (close_up: no slide)
    xs = [x for x, y in sidecar["noise"]["offsets"]]
    assert all(y == 0 for _, y in sidecar["noise"]["offsets"])
    assert xs[0] == 0 and xs == sorted(xs) and 3 <= xs[-1] <= 5 and xs[-1] == xs[-2]
    again, f_again = render(RenderConfig.from_sidecar(tmp_path / "warp.json", out=str(tmp_path / "again.mp4")),
                            pipe=pipe, return_frames=True)
    assert np.array_equal(f_again, f_warped)


def test_a_lora_learns_under_its_bases_start_noise(tiny_base, tmp_path):
    """A base trained on shared, warped noise (its cinestudio_base.json says so): its LoRAs train
    on the same kind of noise and record it; a base without it trains them exactly as before."""
    import shutil

    from cinestudio.cameradiff.train_lora import LoraTrainConfig, train_lora
    from tests.cameraclip.clips import make_clips

    clips = tmp_path / "clips"
    make_clips(clips, per_move=2, seed=2, frames=8, size=32, moves=("pan_left", "pan_right"))
    warped = tmp_path / "warped_base"
    shutil.copytree(tiny_base, warped)
    (warped / "cinestudio_base.json").write_text(json.dumps({"config": {"noise_share": 0.9, "noise_warp": 0.7}}))

    def run(base, name):
        out = tmp_path / name
        train_lora(LoraTrainConfig(type="pan_left", data=str(clips), base=str(base), out=str(out), steps=3,
                                   rank=2, frames=4, resolution=16, batch_size=2, preview_every=0,
                                   log_every=1, device="cpu", threads=1))
        info = json.loads((out / "config.json").read_text())
        losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()
                  if '"loss"' in line]
        return info, losses

    plain_info, plain = run(tiny_base, "plain")
    again_info, again = run(tiny_base, "again")
    warped_info, warp = run(warped, "warped")
    assert (plain_info["noise_share"], plain_info["noise_warp"]) == (0.0, 0.0)
    assert (warped_info["noise_share"], warped_info["noise_warp"]) == (0.9, 0.7)
    assert plain == again and len(warp) == len(plain) == 3
    assert warp != plain            # same seed, same batches: only the noise differs
