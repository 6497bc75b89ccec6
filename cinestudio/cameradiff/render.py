"""The render use-case: base + LoRAs + method → MP4 (H.264), GIF and a sidecar JSON.

`render(RenderConfig, progress, should_stop)` loads the pipeline and the LoRAs, composes (see
`compose`), writes ``OUT.mp4``, ``OUT.gif`` and ``OUT.json`` (atomically) and returns the sidecar.
The sidecar holds what reproduces the video — base, motion adapter, LoRA files (with SHA-256),
weights, frame ranges, method and its parameters, prompt, seed, steps, size, guidance, device,
library versions — and what happened: the multipliers in force at every step (the weight
schedule), CLIPLoRA's scoring log and cost, timings, and per segment the CameraCLIP scores of the
final video (with ``--clip``) and the optical-flow estimator's verdict (`media.motion`).
``RenderConfig.from_sidecar`` reads one back, so ``cinestudio diff render --replay OUT.json`` renders
the same video again.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn

SIDECAR_FORMAT = "cinestudio.render/1"


@dataclass
class RenderConfig:
    base: str
    prompt: str
    out: str
    loras: list[str] = field(default_factory=list)  # FILE[:WEIGHT][@START-END]
    method: str = "merge"
    clip: str | None = None  # CameraCLIP run folder
    steps: int = 25
    frames: int = 16
    size: int | None = None  # square; None: the base's native size
    seed: int = 0
    guidance: float = 7.5
    negative_prompt: str | None = None
    tau: int = 2
    k: int = 5
    temperature: float = 0.1
    momentum: float = 0.5
    stop: float = 0.8
    max_calls: int | None = None
    blend: int = 2
    noise_share: float | None = None  # start noise common to all frames (None: the base's training value, else 0)
    noise_warp: float | None = None   # its slide with the movement LoRAs, latent px/frame (None: as the share)
    fps: float = 8.0
    device: str = "auto"
    dtype: str = "auto"
    motion_adapter: str | None = None
    scheduler: str | None = None
    attention_slicing: bool = False
    cpu_offload: bool = False
    gif: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_sidecar(cls, path: str | os.PathLike[str], **overrides: Any) -> RenderConfig:
        import json

        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserInputError(path, f"not a readable render sidecar ({exc})") from None
        if data.get("format") != SIDECAR_FORMAT or "config" not in data:
            raise UserInputError(path, "not a render sidecar (no config)")
        return cls.from_dict({**data["config"], **{k: v for k, v in overrides.items() if v is not None}})


def sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def flow_frames(frames: np.ndarray) -> np.ndarray:
    """`frames` enlarged to ≥128 px on the short side for the optical-flow estimator: corner
    tracking needs a few pixels of texture around each corner."""
    import cv2

    frames = np.asarray(frames)
    side = min(frames.shape[1:3])
    if side >= 128:
        return frames
    f = 128 / side
    return np.stack([cv2.resize(x, (round(x.shape[1] * f), round(x.shape[0] * f)),
                                interpolation=cv2.INTER_CUBIC) for x in frames])


def motion_verdict(frames: np.ndarray, offset: int = 0) -> dict[str, Any]:
    """The optical-flow estimator's reading of a clip (`flow_frames` first)."""
    from cinestudio.media.motion import classify_motion

    frames = np.asarray(frames)
    if len(frames) < 2:
        return {"verdict": "unknown", "dominant": [], "segments": []}
    frames = flow_frames(frames)
    report = classify_motion(frames, offset=offset, min_segment=max(2, len(frames) // 4))
    d = report.to_dict()
    return {"verdict": (d["dominant"] or ["unknown"])[0], "dominant": d["dominant"],
            "segments": [{k: v for k, v in s.items() if k != "motion"} for s in d["segments"]]}


def score_segments(frames: np.ndarray, segments: list[dict], scorer=None) -> list[dict[str, Any]]:
    """Per segment: CameraCLIP scores of its types (if a scorer) and the optical-flow verdict."""
    out = []
    for seg in segments:
        clip = frames[seg["start"]:seg["end"]]
        keys = [k for k in seg["keys"] if k]
        entry: dict[str, Any] = {"start": seg["start"], "end": seg["end"], "types": seg["keys"]}
        if scorer is not None and keys and hasattr(scorer, "scores"):
            idx = np.linspace(0, len(clip) - 1, scorer.num_frames).round().astype(int)
            entry["cameraclip"] = scorer.scores(clip[idx], keys)
        entry["motion"] = motion_verdict(clip, seg["start"])
        out.append(entry)
    return out


def versions() -> dict[str, str]:
    import diffusers
    import peft
    import torch

    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "peft": peft.__version__,
            "python": platform.python_version()}


def build_options(cfg: RenderConfig):
    from cinestudio.cameradiff.cliplora import GuideOptions
    from cinestudio.cameradiff.compose import ComposeOptions

    return ComposeOptions(method=cfg.method, steps=cfg.steps, num_frames=cfg.frames, height=cfg.size,
                          width=cfg.size, seed=cfg.seed, guidance_scale=cfg.guidance,
                          negative_prompt=cfg.negative_prompt, tau=cfg.tau, blend=cfg.blend,
                          noise_share=cfg.noise_share or 0.0, noise_warp=cfg.noise_warp or 0.0,
                          guide=GuideOptions(k=cfg.k, temperature=cfg.temperature, momentum=cfg.momentum,
                                             stop=cfg.stop, max_calls=cfg.max_calls))


def with_base_noise(cfg: RenderConfig) -> RenderConfig:
    """`cfg` with the start-noise options it leaves open (None) set as the base was trained
    (`train-base --noise-share/--noise-warp`; 0 for other bases), so the sidecar records them."""
    from cinestudio.cameradiff.train_base import base_config, trained_noise

    if cfg.noise_share is not None and cfg.noise_warp is not None:
        return cfg
    share, warp = trained_noise(base_config(cfg.base))
    return replace(cfg, noise_share=share if cfg.noise_share is None else cfg.noise_share,
                   noise_warp=warp if cfg.noise_warp is None else cfg.noise_warp)


def render(cfg: RenderConfig, progress: ProgressFn | None = None, should_stop: StopFn | None = None, *,
           pipe=None, scorer=None, return_frames: bool = False) -> Any:
    """Render and write ``OUT.mp4``/``.gif``/``.json``; returns the sidecar (and the frames, with
    `return_frames`). `pipe` and `scorer` may be passed in (loaded once for many renders); the
    pipeline's LoRAs are replaced by `cfg.loras`."""
    from cinestudio.cameradiff import lora as lora_mod
    from cinestudio.cameradiff.backend import BackendOptions, describe_pipeline, load_pipeline
    from cinestudio.cameradiff.cliplora import CameraClipScorer
    from cinestudio.cameradiff.compose import METHODS, compose
    from cinestudio.fsutil import write_json_atomic
    from cinestudio.media.encode import write_mp4, write_gif

    t_all = time.perf_counter()
    if cfg.method not in METHODS:
        raise UserInputError(cfg.method, f"unknown method (known: {', '.join(METHODS)})")
    out = Path(cfg.out)
    if out.suffix.lower() != ".mp4":
        raise UserInputError(out, "the output is an .mp4 file (the GIF and JSON are written beside it)")
    if out.exists() and out.is_dir():
        raise UserInputError(out, "is a folder")
    cfg = with_base_noise(cfg)
    refs = [lora_mod.parse_lora_arg(x) for x in cfg.loras]
    if cfg.method in ("switch", "composite", "cliplora") and len(refs) < 1:
        raise UserInputError(cfg.method, "give at least one --lora")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if pipe is None:
        pipe = load_pipeline(cfg.base, BackendOptions(device=cfg.device, dtype=cfg.dtype,
                                                      motion_adapter=cfg.motion_adapter, scheduler=cfg.scheduler,
                                                      attention_slicing=cfg.attention_slicing,
                                                      cpu_offload=cfg.cpu_offload))
    lora_mod.unload_loras(pipe)
    lora_mod.load_loras(pipe, refs)
    if scorer is None and cfg.clip:
        scorer = CameraClipScorer.load(cfg.clip, cfg.device)
    if cfg.method == "cliplora" and scorer is None:
        raise UserInputError("--clip", "cliplora needs a CameraCLIP run folder to score with")
    if scorer is not None and hasattr(scorer, "axis_of"):
        for r in refs:
            if not r.key:
                raise UserInputError(r.path, "has no cinematic type in its metadata; CameraCLIP cannot score it")
            scorer.axis_of(r.key)  # raises for types CameraCLIP's scheme does not know
    timings["load_s"] = time.perf_counter() - t0
    composed = compose(pipe, cfg.prompt, refs, build_options(cfg), scorer=scorer, progress=progress,
                       should_stop=should_stop)
    timings["render_s"] = composed.report["timings"]["total_s"]
    t0 = time.perf_counter()
    final = score_segments(composed.frames, composed.report["segments"], scorer)
    timings["final_scoring_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_mp4(out, list(composed.frames), fps=cfg.fps, deterministic=True)   # --replay gives the same file
    gif = out.with_suffix(".gif")
    if cfg.gif:
        write_gif(gif, list(composed.frames), fps=cfg.fps)
    timings["encode_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_all
    sidecar = {
        "format": SIDECAR_FORMAT,
        "outputs": {"mp4": out.name, "gif": gif.name if cfg.gif else None},
        "config": asdict(cfg),
        "pipeline": describe_pipeline(pipe),
        "loras": [{**r.to_dict(), "sha256": sha256(r.path)} for r in refs],
        "method": cfg.method, "seed": cfg.seed, "steps": cfg.steps, "frames": cfg.frames,
        "size": [composed.report["height"], composed.report["width"]],
        "schedule": {"units": composed.report["units"], "segments": composed.report["segments"],
                     "windows": composed.report["windows"],
                     "multipliers_per_step": composed.report["multipliers_per_step"]},
        "noise": composed.report["noise"],
        "cliplora": composed.report.get("cliplora"),
        "unet_calls": composed.report["unet_calls"],
        "timings": {**{k: round(v, 4) for k, v in timings.items()}, "compose": composed.report["timings"]},
        "segments": final,
        "versions": versions(),
    }
    write_json_atomic(out.with_suffix(".json"), sidecar)
    return (sidecar, composed.frames) if return_frames else sidecar
