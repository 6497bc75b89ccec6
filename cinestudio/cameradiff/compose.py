"""Composing several cinematic LoRAs in one render: one interface, four methods.

`compose(pipe, prompt, loras, ComposeOptions(method=...))` renders one video with the LoRAs already
loaded in `pipe` (`lora.load_loras`) and returns its frames plus a report of what was done.

- ``merge``     — a weighted sum of the adapters: constant strengths (what ``set_adapters`` with
                  those weights does), per frame when the LoRAs have frame ranges.
- ``switch``    — LoRA Switch: one LoRA per segment active at a time, rotating every ``tau``
                  denoising steps.
- ``composite`` — LoRA Composite: at every step each LoRA alone predicts the noise (conditional and
                  unconditional), and the predictions are averaged (per frame, by each LoRA's share
                  of the strength there) before classifier-free guidance. Costs N UNet passes a step.
- ``cliplora``  — CameraCLIP-guided re-weighting (`cliplora`): every ``k`` steps, predict x̂0,
                  decode the frames CameraCLIP needs, score each segment against its own types and
                  shift strength toward the under-expressed ones; stops scoring once settled.

Every method runs inside the pipeline's own ``__call__``: strengths change in its
``callback_on_step_end`` (they apply from the next step), the UNet is tapped for Composite's passes
and CLIPLoRA's x̂0 (`mixing`). The starting noise is drawn on the CPU from the seed, so a seed gives
the same video on every device type up to floating-point differences; a run is deterministic.

The starting noise may share a part across frames that slides with the content of the pan/tilt
LoRAs scheduled on each frame (``noise_share``, ``noise_warp``; `noise`): the small bases trained
here move the way their start noise moves and not the way their prompt says, so this is what makes
their renders pan and tilt (docs/cameradiff.md). Every method gets the same start, so a comparison
between methods stays fair; the default (0) is diffusers' independent draw.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cinestudio.cameradiff import schedule as sch
from cinestudio.cameradiff.cliplora import ClipLoraGuide, GuideOptions, Scorer
from cinestudio.cameradiff.mixing import AdapterMixer, UNetTap, predict_x0
from cinestudio.cameradiff.noise import frame_offsets, mixed_noise, warp_for
from cinestudio.errors import UserInputError
from cinestudio.progress import Cancelled, ProgressFn, StopFn

METHODS = ("merge", "switch", "composite", "cliplora")


@dataclass
class ComposeOptions:
    method: str = "merge"
    steps: int = 25
    num_frames: int = 16
    height: int | None = None
    width: int | None = None
    seed: int = 0
    guidance_scale: float = 7.5
    negative_prompt: str | None = None
    tau: int = 2  # switch: steps between LoRA changes
    blend: int = 2  # frames of cross-fade between consecutive segments
    guide: GuideOptions = field(default_factory=GuideOptions)  # cliplora
    decode_chunk_size: int = 16
    # Start noise (`noise`): share of it common to all frames (0: independent, as diffusers
    # draws it), and how fast (latent px per frame) the common part slides with the content of
    # the movement LoRAs scheduled on each frame (0: not at all).
    noise_share: float = 0.0
    noise_warp: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["guide"] = self.guide.to_dict()
        return d


@dataclass
class Composed:
    frames: np.ndarray  # (F, H, W, 3) uint8
    report: dict[str, Any]


def check_geometry(pipe, opts: ComposeOptions) -> tuple[int, int]:
    vf = int(pipe.vae_scale_factor)
    native = int(pipe.unet.config.sample_size) * vf
    h = int(opts.height or native)
    w = int(opts.width or opts.height or native)
    multiple = math.lcm(8, vf)  # the pipeline wants multiples of 8; the UNet copes with odd latent sizes
    for v, name in ((h, "height"), (w, "width")):
        if v <= 0 or v % multiple:
            raise UserInputError(str(v), f"{name} must be a positive multiple of {multiple} for this base")
    adapter = getattr(pipe, "motion_adapter", None)
    max_frames = (adapter.config.get("motion_max_seq_length") if adapter is not None else None) \
        or _unet_max_frames(pipe.unet)
    if opts.num_frames < 2 or (max_frames and opts.num_frames > max_frames):
        raise UserInputError(str(opts.num_frames), f"frames must be between 2 and {max_frames or 'the motion modules’ limit'}")
    if opts.steps < 1:
        raise UserInputError(str(opts.steps), "steps must be at least 1")
    return h, w


def _unet_max_frames(unet) -> int | None:
    for name, module in unet.named_modules():
        pe = getattr(module, "pe", None)
        if name.endswith("pos_embed") and pe is not None:
            return int(pe.shape[1])
    return None


def initial_noise(pipe, num_frames: int, height: int, width: int, seed: int, share: float = 0.0,
                  offsets: list[tuple[int, int]] | None = None):
    """The starting noise from `seed`, drawn on the CPU (the same on every device); the pipeline
    scales it by the scheduler's ``init_noise_sigma``. ``share`` > 0 mixes in a part common to all
    frames, displaced per frame by ``offsets`` (`noise.mixed_noise`); 0 draws what it always did."""
    import torch

    vf = int(pipe.vae_scale_factor)
    shape = (1, int(pipe.unet.config.in_channels), num_frames, height // vf, width // vf)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    x = mixed_noise(shape, gen, share, offsets=[offsets] if offsets else None)
    dtype = next(pipe.unet.parameters()).dtype
    return x.to(pipe._execution_device, dtype)


def noise_velocities(units: list, wins: np.ndarray, speed: float) -> list[tuple[float, float]]:
    """Per frame, the slide (latent px per frame) of the warped start noise: the sum over the
    scheduled LoRAs of their window there × their movement's slide at `speed` (`noise.warp_for`:
    pans and tilts; framing, angle and the moves without a direction add nothing)."""
    if not units:
        return []
    slides = np.array([warp_for(u.key, speed) for u in units], np.float64)   # (units, 2)
    return [(float(vx), float(vy)) for vx, vy in np.asarray(wins, np.float64).T @ slides]


def to_uint8(video) -> np.ndarray:
    """Decoded video ``(1, C, F, H, W)`` in [-1, 1] → ``(F, H, W, 3)`` uint8."""
    v = (video[0].float().permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5
    return v.round().to("cpu").numpy().astype(np.uint8)


def decode_frames(pipe, latents, frames: list[int] | np.ndarray | None = None, chunk: int = 16) -> np.ndarray:
    """Decode (some frames of) latents ``(1, C, F, h, w)`` with the pipeline's VAE → uint8."""
    import torch

    with torch.no_grad():
        if frames is not None:
            latents = latents[:, :, list(frames)]
        video = pipe.decode_latents(latents, chunk)
    return to_uint8(video)


def activate(pipe, adapters: list[str]) -> None:
    """Exactly `adapters` active, each at weight 1 (the mixer scales them); none: LoRAs off."""
    if not getattr(pipe.unet, "peft_config", None):
        if adapters:
            raise ValueError("no LoRA is loaded in this pipeline")
        return
    if adapters:
        pipe.enable_lora()
        pipe.set_adapters(list(adapters), [1.0] * len(adapters))
    else:
        pipe.disable_lora()


def compose(pipe, prompt: str, loras: list, opts: ComposeOptions, scorer: Scorer | None = None,
            progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> Composed:
    """Render `prompt` with the loaded `loras` (`lora.LoraRef`s with adapters) by ``opts.method``."""
    import torch

    if opts.method not in METHODS:
        raise UserInputError(opts.method, f"unknown method (known: {', '.join(METHODS)})")
    if opts.method == "cliplora" and scorer is None:
        raise UserInputError("cliplora", "needs a CameraCLIP run to score with (--clip RUN_DIR)")
    h, w = check_geometry(pipe, opts)
    F = int(opts.num_frames)
    units = sch.make_units(loras, F)
    segments = sch.segments_of(units, F)
    wins = sch.windows(units, F, opts.blend)
    n_ad = len(loras)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()

    activate(pipe, [r.adapter for r in loras])
    mixer = AdapterMixer(pipe.unet, [r.adapter for r in loras], F) if loras else None
    guide = ClipLoraGuide(units, segments, scorer, opts.steps, opts.guide) if opts.method == "cliplora" else None
    history: list[list[float]] = []  # multipliers in force at each step

    def multipliers_for(step: int) -> np.ndarray:
        if opts.method == "switch":
            return sch.switch_multipliers(segments, len(units), step, opts.tau)
        if guide is not None:
            return guide.state.multipliers.astype(np.float32)
        return np.ones(len(units), np.float32)

    tap = UNetTap(pipe.unet, mixer)
    state: dict[str, Any] = {"x_t": None, "decode_s": 0.0}

    def apply(step: int) -> None:
        m = multipliers_for(step)
        history.append([round(float(x), 4) for x in m])
        if mixer is None:
            return
        strength = sch.strengths(units, wins, n_ad, m)
        if opts.method == "composite":
            mixer.set(strength)
            tap.set_composite(sch.composite_passes(strength))
        else:
            mixer.set(strength)

    def on_step_end(pipeline, i: int, t, kwargs: dict) -> dict:
        if should_stop is not None and should_stop():
            raise Cancelled("stopped on request")
        latents = kwargs["latents"]
        if guide is not None and guide.wants(i):
            out = tap.last_output
            if pipeline.do_classifier_free_guidance:
                uncond, cond = out.chunk(2)
                out = uncond + pipeline.guidance_scale * (cond - uncond)
            x0 = predict_x0(pipeline.scheduler, state["x_t"], out, t)
            need = sorted({int(f) for idx in guide.frames_needed() for f in idx})
            t0 = time.perf_counter()
            decoded = decode_frames(pipeline, x0, need, opts.decode_chunk_size)
            dec = time.perf_counter() - t0
            state["decode_s"] += dec
            guide.update(i, dict(zip(need, decoded)))
            guide.state.log[-1]["decode_ms"] = round(dec * 1000, 2)
            guide.state.seconds += dec
        if i + 1 < opts.steps:
            apply(i + 1)
        state["x_t"] = latents
        if progress is not None:
            progress(i + 1, opts.steps, f"step {i + 1}/{opts.steps}")
        return kwargs

    if not 0.0 <= opts.noise_share < 1.0:
        raise UserInputError(str(opts.noise_share), "the noise share is a fraction in [0, 1)")
    offsets = frame_offsets(noise_velocities(units, wins, opts.noise_warp)) \
        if opts.noise_share and opts.noise_warp and units else None
    try:
        latents = initial_noise(pipe, F, h, w, opts.seed, opts.noise_share, offsets)
        state["x_t"] = latents * float(pipe.scheduler.init_noise_sigma)
        apply(0)
        t0 = time.perf_counter()
        with torch.no_grad():
            out = pipe(prompt=prompt, negative_prompt=opts.negative_prompt, num_frames=F, height=h, width=w,
                       num_inference_steps=opts.steps, guidance_scale=opts.guidance_scale, latents=latents,
                       output_type="latent", callback_on_step_end=on_step_end,
                       callback_on_step_end_tensor_inputs=["latents"])
        timings["denoise_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        frames = decode_frames(pipe, out.frames, None, opts.decode_chunk_size)
        timings["decode_s"] = time.perf_counter() - t0
    finally:
        tap.remove()
        if mixer is not None:
            mixer.close()
    timings["total_s"] = time.perf_counter() - t_start
    timings = {k: round(v, 4) for k, v in timings.items()}
    report: dict[str, Any] = {
        "method": opts.method, "options": opts.to_dict(), "height": h, "width": w, "frames": F,
        "unet_calls": tap.calls, "timings": timings,
        "units": [{"adapter": loras[u.adapter].adapter, "key": u.key, "weight": u.weight, "start": u.start,
                   "end": u.end} for u in units],
        "segments": [{"start": s.start, "end": s.end, "units": list(s.units),
                      "keys": [units[u].key for u in s.units]} for s in segments],
        "windows": np.round(wins, 4).tolist(),
        "multipliers_per_step": history,
        "noise": {"share": opts.noise_share, "warp": opts.noise_warp,
                  "offsets": [list(o) for o in offsets] if offsets else None},
    }
    if guide is not None:
        report["cliplora"] = guide.state.report()
    return Composed(frames=frames, report=report)
