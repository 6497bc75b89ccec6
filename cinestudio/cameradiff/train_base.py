"""Training a small AnimateDiff base on simulator clips: `train_base(config, progress, should_stop)`.

A random base renders noise, and comparing composition methods on noise proves nothing. This trains
a tiny base whose samples show the simulator's world (sky, ground, a figure, rooms) and camera
motion that `media.motion` can read, at 32–64 px and 8 frames, on a CPU.

Recipe (the defaults; see ``docs/cameradiff.md``):

1. data — simulator clips (``cinestudio simulate DATA --per-class 20 --size 64 --frames 16``), 8
   frames sampled uniformly per clip, fitted to ``size`` (32 px), used as is and with label-true
   flips/reversals (`data.examples_for`); ``movements`` restricts training to clips of those moves
   (a curriculum: the movement axis first, on the moves the flow estimator reads);
2. text — ``text="movement"``: one of the taxonomy prompts of the clip's (transformed) movement,
   the very strings a user or a LoRA prompts with (``caption``: the clip's caption), 20 % of the time
   the neutral prompt ``NEUTRAL_PROMPT`` and 10 % empty (classifier-free guidance). The text
   encoder is trained along (``text_lr``): at its random initialisation it gives "the camera pans to
   the left" and "… to the right" embeddings at cosine 0.994, a condition the UNet hardly tells apart;
3. stage 1, VAE — the ``base`` preset's `AutoencoderKL` (4× downsampling: 8×8×4 latents at 32 px)
   trained on single frames, L1 + MSE + 1e-6·KL, AdamW 1e-3, ``vae_steps`` steps; then the latent
   scaling factor is set to 1/std of the training latents. ``vae_from`` takes a trained VAE from
   another pipeline or run instead (stage 1 skipped); ``init`` starts from a whole pipeline;
4. stage 2, UNet + motion modules — ε-prediction MSE with min-SNR-5 weighting on the AnimateDiff
   DDPM schedule (linear β 0.00085–0.012, 1000 steps), batch ``batch_size`` clips, AdamW ``lr`` with
   warm-up (the motion modules, the only layers that mix frames, at ``motion_lr_scale``·lr), EMA of
   the weights (the saved pipeline uses the EMA);
5. optionally (``decoder_steps``), the VAE decoder alone is fine-tuned on the same frames with the
   encoder frozen: the latents the UNet learnt stay exactly the same, the pictures get sharper;
6. every ``sample_every`` steps: samples (``samples/step_N_{0,1}.gif``, the neutral prompt and one
   camera prompt); every ``eval_every`` steps (default: with the samples) the prompt-following
   evaluation (`evaluate`): per readable movement, ``eval_seeds`` samples prompted with it and the
   optical-flow estimator's verdict on each — ``{"stage": "eval", "follow": {movement: rate}}`` in
   ``metrics.jsonl``, the first seed's sample as ``samples/step_N_<movement>.gif``.

The run folder: ``config.json``, ``metrics.jsonl``, ``checkpoints/{vae,unet}.safetensors`` (weights,
EMA, optimizer, step: ``resume`` continues), ``samples/``, and ``pipeline/``: the trained AnimateDiff
pipeline (EMA weights), refreshed at every sample and at the end — a ``--base`` for everything else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from cinestudio.cameradiff.noise import mixed_noise, warp_for
from cinestudio.cpu_threads import training_threads
from cinestudio.errors import UserInputError
from cinestudio.fsutil import has_content, write_json_atomic
from cinestudio.progress import Cancelled, ProgressFn, StopFn
from cinestudio.taxonomy import DEFAULT_SCHEME, load_taxonomy

KIND = "diff-train-base"
CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.jsonl"
PIPELINE_DIR = "pipeline"
VAE_CKPT = Path("checkpoints") / "vae.safetensors"
UNET_CKPT = Path("checkpoints") / "unet.safetensors"
DECODER_CKPT = Path("checkpoints") / "decoder.safetensors"
TEXT_CKPT = Path("checkpoints") / "text.safetensors"
NEUTRAL_PROMPT = "a scene"
SAMPLE_PROMPTS = (NEUTRAL_PROMPT, "the camera pans to the left")  # a taxonomy prompt: one the base was trained on
SAMPLE_MOVEMENTS = (None, "pan_left")  # the move each sample prompt names (the noise warp follows it)
# Movements the optical-flow estimator reads reliably on the simulator's own 32 px clips (see
# docs/cameradiff.md): the prompt-following evaluation scores these.
READABLE_MOVEMENTS = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
TEXT_MODES = ("movement", "caption", "labels")


@dataclass
class BaseTrainConfig:
    data: str
    out: str
    init: str | None = None  # start from this pipeline folder instead of a fresh `base` preset
    preset: str = "base"
    size: int = 32
    frames: int = 8
    vae_steps: int = 1500
    vae_batch: int = 32
    vae_lr: float = 1e-3
    decoder_steps: int = 0  # after the UNet: fine-tune the VAE decoder alone (the latents stay the same)
    steps: int = 20000
    batch_size: int = 8
    lr: float = 3e-4
    warmup_steps: int = 200
    ema: float = 0.999
    min_snr: float = 5.0
    prediction: str | None = None  # epsilon | v_prediction (None: the start pipeline's; a new preset: epsilon)
    neutral_fraction: float = 0.2
    empty_fraction: float = 0.1
    text: str = "movement"  # movement: a prompt of the clip's movement; caption; labels (see `_texts`)
    movements: list[str] | None = None  # train only on clips of these movements (None: all)
    motion_lr_scale: float = 1.0  # learning rate of the motion modules relative to `lr`
    text_lr: float = 1e-3  # train the text encoder along (0: keep it at its random initialisation)
    crop: float = 1.0  # < 1: train on the centre of frames read at size/crop px (moves cover more of the picture)
    motion_loss: float = 0.0  # weight of the loss on the frame-to-frame differences of the error
    vae_from: str | None = None  # take the trained VAE of this pipeline/run instead of stage 1
    noise_share: float = 0.0  # share of the noise variance common to all frames (training and the samples' start)
    text_aux: float = 0.0  # weight of a movement-classification loss on the text encoder's output
    noise_warp: float = 0.0  # latent px/frame the shared noise slides along the clip's (the prompt's) camera move
    eval_every: int | None = None  # prompt-following evaluation every N steps (None: at every sample)
    eval_seeds: int = 2
    eval_guidance: float = 3.0
    augment: bool = True
    seed: int = 0
    log_every: int = 25
    checkpoint_every: int = 250
    sample_every: int = 1000
    sample_steps: int = 25
    max_minutes: float | None = None
    device: str = "auto"
    threads: int | None = None
    scheme: str = DEFAULT_SCHEME

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseTrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _write_metrics(run: Path, record: dict) -> None:
    with open(run / METRICS_NAME, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _trim_metrics(run: Path, stage: str, step: int) -> None:
    """Drop the lines of `stage` logged after `step` (a resumed run rewrites them)."""
    from cinestudio.fsutil import write_text_atomic

    path = run / METRICS_NAME
    if not path.is_file():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("stage") != stage or int(rec.get("step", 0)) <= step:
            keep.append(line + "\n")
    write_text_atomic(path, "".join(keep))


class _Ema:
    """Exponential moving average of parameters (kept as a module of the same shape)."""

    def __init__(self, module, decay: float):
        import copy

        self.decay = decay
        self.module = copy.deepcopy(module).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def update(self, module, step: int) -> None:
        import torch

        d = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(self.module.parameters(), module.parameters()):
                e.mul_(d).add_(p.detach(), alpha=1 - d)


def _sync_motion_adapter(pipe) -> None:
    """Copy the UNet's motion modules into ``pipe.motion_adapter`` so the saved folder agrees."""
    adapter = getattr(pipe, "motion_adapter", None)
    if adapter is None:
        return
    own = adapter.state_dict()
    src = pipe.unet.state_dict()
    adapter.load_state_dict({k: src[k] for k in own if k in src}, strict=False)


def _load_start(cfg: BaseTrainConfig, run: Path):
    from cinestudio.cameradiff.backend import BackendOptions, load_pipeline
    from cinestudio.cameradiff.tiny import PRESETS, assemble, build_components

    if cfg.init:
        return load_pipeline(cfg.init, BackendOptions(device=cfg.device, dtype="float32"))
    from dataclasses import replace

    spec = replace(PRESETS[cfg.preset], image_size=cfg.size)
    pipe = assemble(build_components(spec, cfg.seed))
    from cinestudio.cameradiff.backend import resolve_device

    pipe.to(resolve_device(cfg.device))
    pipe.set_progress_bar_config(disable=True)
    pipe._cinestudio_source = {"base": f"new {cfg.preset} preset", "motion_adapter": None,
                               "device": resolve_device(cfg.device), "dtype": "float32"}
    return pipe


def _texts(examples, rng: np.random.Generator, tax, cfg: BaseTrainConfig) -> list[str]:
    """Training texts: empty (``empty_fraction``), the neutral prompt (``neutral_fraction``), else by
    ``cfg.text`` — ``movement``: one of the taxonomy prompts of the example's (transformed) movement,
    the very strings a user or a LoRA prompts with; ``caption``: the clip's caption (prompts of the
    transformed labels for flipped/reversed clips); ``labels``: prompts of all three labels."""
    from cinestudio.cameradiff.data import example_text

    out = []
    for ex in examples:
        r = rng.random()
        if r < cfg.empty_fraction:
            out.append("")
        elif r < cfg.empty_fraction + cfg.neutral_fraction:
            out.append(NEUTRAL_PROMPT)
        elif cfg.text == "movement" and ex.labels.get("movement"):
            out.append(example_text(ex, "class", tax, rng, key=ex.labels["movement"][0]))
        else:
            out.append(example_text(ex, "labels" if cfg.text == "labels" else "caption", tax, rng))
    return out


def base_config(base: str | Path) -> dict[str, Any]:
    """The training options a `train-base` pipeline folder records in ``cinestudio_base.json``
    (empty for any other base: a hub id, a real AnimateDiff folder)."""
    try:
        data = json.loads((Path(str(base)) / "cinestudio_base.json").read_text(encoding="utf-8"))
        return dict(data.get("config") or {})
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def trained_noise(trained: dict[str, Any]) -> tuple[float, float]:
    """The start noise's (share, warp) of a `base_config` (``--noise-share/--noise-warp``; 0 when
    the base does not record them)."""
    return float(trained.get("noise_share") or 0.0), float(trained.get("noise_warp") or 0.0)


def render_sample(pipe, prompt: str, *, steps: int, frames: int, size: int, seed: int, guidance: float,
                  noise_share: float = 0.0, warp: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """One sample ``(F, H, W, 3)`` uint8. With ``noise_share`` 0 it is `compose` (the render path); else
    the same pipeline call started from frame-correlated noise (`mixed_noise`, drawn on the CPU from
    ``seed``), as the base was trained with it; ``warp``: the common part slides by that many latent
    px per frame (`warp_for` a movement)."""
    from cinestudio.cameradiff.compose import ComposeOptions, compose

    if not noise_share:
        return compose(pipe, prompt, [], ComposeOptions(steps=steps, num_frames=frames, height=size, width=size,
                                                        seed=seed, guidance_scale=guidance)).frames
    import torch

    from cinestudio.cameradiff.compose import decode_frames

    vf = int(pipe.vae_scale_factor)
    shape = (1, int(pipe.unet.config.in_channels), frames, size // vf, size // vf)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    latents = mixed_noise(shape, gen, noise_share, [tuple(warp)])
    latents = latents.to(pipe._execution_device, next(pipe.unet.parameters()).dtype)
    with torch.no_grad():
        out = pipe(prompt=prompt, num_frames=frames, height=size, width=size, num_inference_steps=steps,
                   guidance_scale=guidance, latents=latents, output_type="latent")
    return decode_frames(pipe, out.frames)


def eval_movements(cfg: BaseTrainConfig) -> list[str]:
    """The movements the prompt-following evaluation prompts for: readable ones that were trained."""
    trained = set(cfg.movements) if cfg.movements else set(READABLE_MOVEMENTS)
    return [m for m in READABLE_MOVEMENTS if m in trained]


def evaluate(pipe, cfg: BaseTrainConfig, run: Path, step: int, tax=None) -> dict[str, Any]:
    """Prompt-following rate: for every readable movement, samples prompted with the movement's first
    taxonomy prompt (``eval_seeds`` seeds) and the optical-flow estimator's verdict on each; a sample
    follows its prompt when the verdict names the prompted movement. The first seed's samples are
    kept as ``samples/step_N_<movement>.gif``."""
    from cinestudio.cameradiff.render import motion_verdict
    from cinestudio.media.encode import write_gif

    tax = tax or load_taxonomy(cfg.scheme)
    folder = run / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    verdicts: dict[str, list[str]] = {}
    drifts: list[float] = []
    for m in eval_movements(cfg):
        prompt = tax.get("movement", m).prompts[0]
        verdicts[m] = []
        for j in range(cfg.eval_seeds):
            video = render_sample(pipe, prompt, steps=cfg.sample_steps, frames=cfg.frames, size=cfg.size,
                                  seed=cfg.seed + 100 + j, guidance=cfg.eval_guidance, noise_share=cfg.noise_share,
                                  warp=warp_for(m, cfg.noise_warp))
            if j == 0:
                write_gif(folder / f"step_{step:06d}_{m}.gif", list(video), fps=8)
            verdicts[m].append(motion_verdict(video)["verdict"])
            drifts.append(drift_percent(video)[0])
    follow = {m: round(sum(v == m for v in vs) / len(vs), 3) for m, vs in verdicts.items()}
    moving = [m for m in follow if m != "static"]
    return {"stage": "eval", "step": step, "follow": follow,
            "follow_rate": round(float(np.mean(list(follow.values()))), 3) if follow else None,
            "follow_rate_moving": round(float(np.mean([follow[m] for m in moving])), 3) if moving else None,
            "verdicts": verdicts, "drift": round(float(np.mean(ok)), 2) if (ok := [d for d in drifts if np.isfinite(d)]) else None}


def drift_percent(frames: np.ndarray) -> tuple[float, float]:
    """How far the picture content moves per frame pair, in % of the frame side, from the flow
    estimator's global (dx, dy) per pair (frames enlarged as for the verdict, `render.flow_frames`):
    ``(net, speed)`` — net: the length of the mean (dx, dy), a steady move; speed: the mean length,
    which jitter (content moving back and forth) raises too. NaN when no pair can be tracked. The
    simulator's pans and tilts at ``--crop 0.5``: net 7-9 %/frame; its static clips 0.6."""
    from cinestudio.cameradiff.render import flow_frames
    from cinestudio.media.motion import global_motion

    v = global_motion(flow_frames(frames))[:, :2]
    v = v[np.isfinite(v).all(axis=1)]
    if not len(v):
        return float("nan"), float("nan")
    return round(float(np.hypot(*v.mean(axis=0)) * 100), 3), round(float(np.hypot(v[:, 0], v[:, 1]).mean() * 100), 3)


def sample(pipe, cfg: BaseTrainConfig, run: Path, step: int) -> list[dict[str, Any]]:
    """Samples from the current (EMA) pipeline with `SAMPLE_PROMPTS`, as GIFs, with flow verdicts."""
    from cinestudio.cameradiff.render import motion_verdict
    from cinestudio.media.encode import write_gif

    out = []
    folder = run / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    for j, prompt in enumerate(SAMPLE_PROMPTS):
        video = render_sample(pipe, prompt, steps=cfg.sample_steps, frames=cfg.frames, size=cfg.size,
                              seed=cfg.seed + j, guidance=3.0, noise_share=cfg.noise_share,
                              warp=warp_for(SAMPLE_MOVEMENTS[j], cfg.noise_warp))
        path = folder / f"step_{step:06d}_{j}.gif"
        write_gif(path, list(video), fps=8)
        out.append({"prompt": prompt, "file": str(path.relative_to(run)),
                    "motion": motion_verdict(video)["verdict"], "drift": drift_percent(video)[0],
                    "contrast": round(float(video.std()), 2)})
    return out


def train_base(cfg: BaseTrainConfig, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
               resume: bool = False, kept_files: Collection[str] = ()) -> dict[str, Any]:
    """Run the recipe (or continue it with `resume`); returns a summary."""
    import torch
    import torch.nn.functional as F

    from cinestudio.cameraclip.checkpoint import load_checkpoint, save_checkpoint
    from cinestudio.cameradiff import data as dmod
    from cinestudio.cameradiff.backend import quiet_hub_output
    from cinestudio.cameradiff.tiny import PRESETS

    progress = progress or (lambda d, t, m="": None)
    if cfg.preset not in PRESETS:
        raise UserInputError(cfg.preset, f"unknown preset (known: {', '.join(PRESETS)})")
    if cfg.size < 16 or cfg.size > 256 or cfg.frames < 2:
        raise UserInputError(str(cfg.size), "size must be 16-256 px and frames at least 2")
    run = Path(cfg.out)
    if resume:
        if not (run / CONFIG_NAME).is_file():
            raise UserInputError(run, "nothing to resume (no config.json)")
    elif has_content(run, kept_files):   # `kept_files`: what another tool keeps there (a job's protocol)
        raise UserInputError(run, "folder is not empty (use --resume to continue the run in it)")
    run.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    quiet_hub_output()
    torch.manual_seed(cfg.seed)
    tax = load_taxonomy(cfg.scheme)
    if cfg.text not in TEXT_MODES:
        raise UserInputError(cfg.text, f"unknown text mode (known: {', '.join(TEXT_MODES)})")
    if not 0 <= cfg.noise_share < 1:
        raise UserInputError(str(cfg.noise_share), "noise share must be in [0, 1)")
    if cfg.noise_warp and not cfg.noise_share:
        raise UserInputError(str(cfg.noise_warp), "--noise-warp moves the shared part of the noise: set --noise-share > 0")
    for m in cfg.movements or ():
        if m not in tax.keys("movement"):
            raise UserInputError(m, "not a movement of the scheme")
    items, examples = dmod.load_examples(cfg.data, tax, None, cfg.augment)
    if cfg.movements:  # curriculum: the movement axis first, on the moves the flow estimator reads
        examples = [ex for ex in examples if set(ex.labels.get("movement", ())) <= set(cfg.movements)
                    and ex.labels.get("movement")]
        if not examples:
            raise UserInputError(str(cfg.data), f"no clips of the movements {', '.join(cfg.movements)}")
    pipe = _load_start(cfg, run)
    if cfg.vae_from:
        _load_vae_from(pipe.vae, cfg.vae_from)
    device = pipe._execution_device

    def stage_threads():
        """A thread governor per stage (their steps cost differently): on CPU without --threads, 1
        thread or all, whichever runs steps faster now (cinestudio.cpu_threads)."""
        return training_threads(cfg.threads, device.type == "cpu", torch.set_num_threads, torch.get_num_threads)

    vf = int(pipe.vae_scale_factor)
    if cfg.size % (vf * 2 ** (len(pipe.unet.config.block_out_channels) - 1)):
        raise UserInputError(str(cfg.size), "size does not fit the UNet's levels")
    info = {"kind": KIND, "format": 1, "config": asdict(cfg), "clips": len(items), "examples": len(examples),
            "variants": dmod.variant_counts(examples), "status": "running",
            "parameters": {n: int(sum(p.numel() for p in getattr(pipe, n).parameters()))
                           for n in ("unet", "vae", "text_encoder")}}
    write_json_atomic(run / CONFIG_NAME, info)
    t_start = time.perf_counter()
    frames = dmod.ExampleFrames(run / "cache", cfg.frames, cfg.size, cfg.crop)
    frames.warm(examples, lambda d, t, m: progress(d, t, m), should_stop)

    def out_of_time() -> bool:
        return cfg.max_minutes is not None and time.perf_counter() - t_start > cfg.max_minutes * 60

    def stop_requested() -> bool:
        return should_stop is not None and should_stop()

    stopped: str | None = None
    # ---- stage 1: VAE ------------------------------------------------------------------------
    vae = pipe.vae
    vae_opt = torch.optim.AdamW(vae.parameters(), lr=cfg.vae_lr, weight_decay=0.0)
    vae_step = 0
    if resume and (run / VAE_CKPT).is_file():
        vae_step = load_checkpoint(run / VAE_CKPT, vae, vae_opt)["step"]
        _trim_metrics(run, "vae", vae_step)
    frame_pool = [(i, t) for i in range(len(examples)) for t in range(cfg.frames)]

    def frame_batch(rng: np.random.Generator) -> torch.Tensor:
        """`cfg.vae_batch` single frames drawn from all examples (the VAE stages' batches)."""
        pick = rng.integers(len(frame_pool), size=cfg.vae_batch)
        return torch.stack([dmod.frames_to_tensor(frames.get(examples[frame_pool[i][0]])[frame_pool[i][1]][None])[0]
                            for i in pick]).to(device)

    unet_started = resume and (run / UNET_CKPT).is_file()  # the UNet learnt this VAE's latents: keep it
    if vae_step < cfg.vae_steps and not cfg.init and not cfg.vae_from and not unet_started:
        vae.train()
        losses = []
        governor = stage_threads()
        for step in range(vae_step, cfg.vae_steps):
            if stop_requested() or out_of_time():
                stopped = "cancelled" if stop_requested() else "time limit"
                break
            governor.begin_step()
            x = frame_batch(np.random.default_rng([cfg.seed, step, 0xAE]))
            post = vae.encode(x).latent_dist
            gen = torch.Generator(device="cpu").manual_seed(cfg.seed * 7919 + step)
            z = post.mean + post.std * torch.randn(post.mean.shape, generator=gen).to(device)
            rec = vae.decode(z).sample
            kl = post.kl().mean()
            loss = F.l1_loss(rec, x) + F.mse_loss(rec, x) + 1e-6 * kl
            vae_opt.zero_grad(set_to_none=True)
            loss.backward()
            vae_opt.step()
            governor.end_step()
            losses.append(float(loss.detach()))
            vae_step = step + 1
            if vae_step % cfg.log_every == 0 or vae_step == cfg.vae_steps:
                _write_metrics(run, {"stage": "vae", "step": vae_step, "vae_loss": round(float(np.mean(losses[-cfg.log_every:])), 5),
                                     "elapsed_s": round(time.perf_counter() - t_start, 1)})
            if vae_step % cfg.checkpoint_every == 0:
                save_checkpoint(run / VAE_CKPT, vae, vae_opt, step=vae_step)
            progress(vae_step, cfg.vae_steps, f"VAE loss {np.mean(losses[-20:]):.4f}")
        save_checkpoint(run / VAE_CKPT, vae, vae_opt, step=vae_step)
    vae.eval()
    vae.requires_grad_(False)
    if stopped:
        return _finish(cfg, run, info, pipe, None, vae_step, 0, stopped, t_start)
    # latent scale: 1 / std of the training latents (stored in the VAE config, saved with the pipeline)
    if not cfg.init and not cfg.vae_from:
        raw = dmod.LatentCache(vae, frames, device)
        vae.register_to_config(scaling_factor=1.0)
        probe = [examples[i] for i in np.random.default_rng(cfg.seed).integers(len(examples), size=min(64, len(examples)))]
        std = float(torch.stack([raw.get(ex) for ex in probe]).std())
        vae.register_to_config(scaling_factor=round(1.0 / max(std, 1e-6), 5))
    latents = dmod.LatentCache(vae, frames, device)
    dec_opt = None
    if (run / DECODER_CKPT).is_file():  # a fine-tuned decoder (the encoder, and so the latents, unchanged)
        dec_opt = _decoder_optimizer(vae, cfg)
        dec_step0 = load_checkpoint(run / DECODER_CKPT, vae, dec_opt)["step"]
    else:
        dec_step0 = 0

    # ---- stage 2: UNet + motion modules ----------------------------------------------------------
    from diffusers import DDPMScheduler

    unet = pipe.unet
    text_enc = pipe.text_encoder
    text_enc.requires_grad_(False)
    text_opt = text_ema = None
    if cfg.text_lr > 0:  # a random frozen text encoder barely tells "left" from "right" (cosine 0.99): train it
        text_enc.requires_grad_(True)
        text_enc.train()
        text_opt = torch.optim.AdamW(text_enc.parameters(), lr=cfg.text_lr, weight_decay=0.0)
        text_ema = _Ema(text_enc, cfg.ema)
        text_holder = torch.nn.Module()
        text_holder.text, text_holder.ema = text_enc, text_ema.module
    aux_head = None
    prompt_class: dict[str, int] = {}
    if cfg.text_aux:  # the UNet's loss alone pulls the movement prompts together: keep them apart
        if text_opt is None:
            raise UserInputError(str(cfg.text_aux), "--text-aux needs the text encoder trained (--text-lr > 0)")
        classes = sorted({m for ex in examples for m in ex.labels.get("movement", ())})
        prompt_class = {pr: i for i, k in enumerate(classes) for pr in tax.get("movement", k).prompts}
        aux_head = torch.nn.Linear(int(text_enc.config.hidden_size), len(classes)).to(device)
        text_opt.add_param_group({"params": list(aux_head.parameters()), "lr": cfg.text_lr})
        text_holder.aux = aux_head
    unet.requires_grad_(True)
    unet.train()
    if cfg.motion_lr_scale != 1.0:  # the motion modules (the only layers that mix frames) at their own rate
        motion = [p for n, p in unet.named_parameters() if "motion_modules" in n]
        ids = {id(p) for p in motion}
        groups = [{"params": [p for p in unet.parameters() if id(p) not in ids], "scale": 1.0},
                  {"params": motion, "scale": float(cfg.motion_lr_scale)}]
    else:
        groups = [{"params": list(unet.parameters()), "scale": 1.0}]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=1e-2)
    ema = _Ema(unet, cfg.ema)
    step0 = 0
    holder = torch.nn.Module()  # one checkpoint: ``unet.*``, ``ema.*``, the optimizer (UNet parameters)
    holder.unet, holder.ema = unet, ema.module
    if resume and (run / UNET_CKPT).is_file():
        step0 = load_checkpoint(run / UNET_CKPT, holder, opt)["step"]
        _trim_metrics(run, "unet", step0)
        if text_opt is not None and (run / TEXT_CKPT).is_file():
            load_checkpoint(run / TEXT_CKPT, text_holder, text_opt)
    if cfg.prediction:  # the saved scheduler says it, so sampling, LoRA training and CLIPLoRA's x̂0 follow
        if cfg.prediction not in ("epsilon", "v_prediction"):
            raise UserInputError(cfg.prediction, "prediction must be epsilon or v_prediction")
        pipe.scheduler.register_to_config(prediction_type=cfg.prediction)
    noise_sched = DDPMScheduler.from_config(pipe.scheduler.config)
    v_pred = noise_sched.config.prediction_type == "v_prediction"
    alphas = noise_sched.alphas_cumprod.to(device)
    text_cache: dict[str, Any] = {}
    text_state: dict[str, Any] = {}

    def embed_batch(texts: list[str]):
        if text_opt is None:
            return torch.cat([embed(s) for s in texts])
        ids = pipe.tokenizer(texts, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids.to(device)
        hidden, pooled = text_enc(ids)[:2]
        text_state["pooled"] = pooled
        return hidden

    def embed(text: str):
        if text not in text_cache:
            with torch.no_grad():
                emb, _ = pipe.encode_prompt(text, device, 1, False)
            text_cache[text] = emb
        return text_cache[text]

    def save_all(step: int, with_samples: bool, with_eval: bool = False) -> list[dict] | None:
        save_checkpoint(run / UNET_CKPT, holder, opt, step=step)
        if text_opt is not None:
            save_checkpoint(run / TEXT_CKPT, text_holder, text_opt, step=step)
        return _export(pipe, ema.module, run, cfg, step, with_samples, with_eval, tax,
                       text_ema.module if text_ema is not None else None)

    def eval_due(done: int) -> bool:
        every = cfg.sample_every if cfg.eval_every is None else cfg.eval_every
        return bool(every) and done % every == 0

    losses = []
    aux_losses: list[float] = []
    step = step0
    samples = None
    governor = stage_threads()
    for step in range(step0, cfg.steps):
        if stop_requested() or out_of_time():
            stopped = "cancelled" if stop_requested() else "time limit"
            break
        governor.begin_step()
        rng = np.random.default_rng([cfg.seed, step, 0xD1FF])
        batch = [examples[int(i)] for i in rng.integers(len(examples), size=cfg.batch_size)]
        x0 = latents.batch(batch)
        gen = torch.Generator(device="cpu").manual_seed(cfg.seed * 1_000_003 + step)
        shifts = [warp_for((ex.labels.get("movement") or [None])[0], cfg.noise_warp) for ex in batch] if cfg.noise_warp else None
        noise = mixed_noise(tuple(x0.shape), gen, cfg.noise_share, shifts).to(device)
        t = torch.randint(0, noise_sched.config.num_train_timesteps, (len(batch),), generator=gen).to(device)
        noisy = noise_sched.add_noise(x0, noise, t)
        texts = _texts(batch, rng, tax, cfg)
        emb = embed_batch(texts).repeat_interleave(cfg.frames, dim=0)
        warm = min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        for g in opt.param_groups:
            g["lr"] = cfg.lr * g.get("scale", 1.0) * warm
        if text_opt is not None:
            for g in text_opt.param_groups:
                g["lr"] = cfg.text_lr * warm
            text_opt.zero_grad(set_to_none=True)
        pred = unet(noisy, t, encoder_hidden_states=emb).sample
        snr = alphas[t] / (1 - alphas[t])
        # min-SNR-γ weights the x̂0 error by min(snr, γ) whatever the parametrisation (ε carries it ×snr, v
        # ×(snr+1)); ~0.005 at the noisiest steps, where the layout (and the camera move) is decided.
        # ``min_snr=0``: no weighting — ε then weighs the x̂0 error by snr, v by snr+1 (≥ 1).
        target = noise_sched.get_velocity(x0, noise, t) if v_pred else noise
        if cfg.min_snr:
            weight = torch.clamp(snr, max=cfg.min_snr) / (snr + 1 if v_pred else snr)
        else:
            weight = torch.ones_like(snr)
        per = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3, 4))
        loss = (per * weight).mean()
        if cfg.motion_loss:  # the error's frame-to-frame changes: where a static guess of a moving clip is wrong
            err = (pred.float() - target.float())
            dt = (err[:, :, 1:] - err[:, :, :-1]).pow(2).mean(dim=(1, 2, 3, 4))
            loss = loss + cfg.motion_loss * (dt * weight).mean()
        aux = None
        if aux_head is not None:  # movement classification from the prompt's pooled embedding
            idx = [i for i, s in enumerate(texts) if s in prompt_class]
            if idx:
                logits = aux_head(text_state["pooled"][idx])
                aux = F.cross_entropy(logits, torch.tensor([prompt_class[texts[i]] for i in idx], device=device))
                loss = loss + cfg.text_aux * aux
                aux_losses.append(float(aux.detach()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        ema.update(unet, step)
        if text_opt is not None:
            torch.nn.utils.clip_grad_norm_(text_enc.parameters(), 1.0)
            text_opt.step()
            text_ema.update(text_enc, step)
        governor.end_step()
        losses.append(float(per.detach().mean()))
        done = step + 1
        if done % cfg.log_every == 0:
            rec = {"stage": "unet", "step": done, "loss": round(float(np.mean(losses[-cfg.log_every:])), 5),
                   "lr": opt.param_groups[0]["lr"], "threads": torch.get_num_threads(),
                   "elapsed_s": round(time.perf_counter() - t_start, 1)}
            if aux_losses:
                rec["text_aux_loss"] = round(float(np.mean(aux_losses[-cfg.log_every:])), 4)
            _write_metrics(run, rec)
        if done == cfg.steps:
            pass  # saved (and sampled) below
        elif cfg.sample_every and done % cfg.sample_every == 0:
            samples = save_all(done, True, eval_due(done))
        elif eval_due(done):
            save_all(done, False, True)
        elif done % cfg.checkpoint_every == 0:
            save_all(done, False)
        progress(done, cfg.steps, f"UNet loss {np.mean(losses[-50:]):.4f}")
    else:
        step = cfg.steps
    steps_done = step if stopped else max(cfg.steps, step0)
    # ---- stage 3 (optional): the decoder alone, on the same frames -------------------------------
    dec_step = dec_step0
    if not stopped and cfg.decoder_steps > dec_step0:
        dec_opt = dec_opt or _decoder_optimizer(vae, cfg)
        vae.decoder.train()
        dlosses = []
        governor = stage_threads()
        for dstep in range(dec_step0, cfg.decoder_steps):
            if stop_requested() or out_of_time():
                stopped = "cancelled" if stop_requested() else "time limit"
                break
            governor.begin_step()
            x = frame_batch(np.random.default_rng([cfg.seed, dstep, 0xDEC]))
            with torch.no_grad():
                z = vae.encode(x).latent_dist.mean
            rec = vae.decode(z).sample
            loss = F.l1_loss(rec, x) + F.mse_loss(rec, x)
            dec_opt.zero_grad(set_to_none=True)
            loss.backward()
            dec_opt.step()
            governor.end_step()
            dlosses.append(float(loss.detach()))
            dec_step = dstep + 1
            if dec_step % cfg.log_every == 0:
                _write_metrics(run, {"stage": "decoder", "step": dec_step,
                                     "decoder_loss": round(float(np.mean(dlosses[-cfg.log_every:])), 5),
                                     "elapsed_s": round(time.perf_counter() - t_start, 1)})
            if dec_step % cfg.checkpoint_every == 0:
                save_checkpoint(run / DECODER_CKPT, vae, dec_opt, step=dec_step)
            progress(dec_step, cfg.decoder_steps, f"decoder loss {np.mean(dlosses[-20:]):.4f}")
        vae.eval()
        save_checkpoint(run / DECODER_CKPT, vae, dec_opt, step=dec_step)
    info["decoder_steps_done"] = dec_step
    samples = save_all(steps_done, bool(cfg.sample_every), cfg.eval_every != 0 and bool(cfg.sample_every or cfg.eval_every)) or samples
    return _finish(cfg, run, info, pipe, samples, vae_step, steps_done, stopped, t_start, losses)


def _decoder_optimizer(vae, cfg: BaseTrainConfig):
    """AdamW over the decoder side (post_quant_conv + decoder); the encoder stays frozen."""
    import torch

    params = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    for p in vae.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    return torch.optim.AdamW(params, lr=cfg.vae_lr, weight_decay=0.0)


def _load_vae_from(vae, ref: str) -> None:
    """Copy a trained VAE (weights and latent scaling factor) from a pipeline folder, a train-base run
    (its ``pipeline/``) or a VAE folder into `vae`."""
    from diffusers import AutoencoderKL

    root = Path(ref)
    folder = next((f for f in (root / PIPELINE_DIR / "vae", root / "vae", root) if (f / "config.json").is_file()), None)
    if folder is None:
        raise UserInputError(ref, "no VAE there (expected a pipeline folder, a train-base run or a VAE folder)")
    src = AutoencoderKL.from_pretrained(folder)
    try:
        vae.load_state_dict(src.state_dict())
    except RuntimeError as exc:
        raise UserInputError(ref, f"this VAE does not fit the preset's VAE ({str(exc).splitlines()[0]})") from None
    vae.register_to_config(scaling_factor=float(src.config.scaling_factor))


def _export(pipe, ema_unet, run: Path, cfg: BaseTrainConfig, step: int, with_samples: bool,
            with_eval: bool = False, tax=None, ema_text=None) -> list[dict] | None:
    """Save ``pipeline/`` with the EMA weights (and sample from it)."""
    import torch

    from cinestudio.cameradiff.tiny import save_pipeline_atomic

    live = {k: v.detach().clone() for k, v in pipe.unet.state_dict().items()}
    live_text = {k: v.detach().clone() for k, v in pipe.text_encoder.state_dict().items()} if ema_text is not None else None
    try:
        with torch.no_grad():
            pipe.unet.load_state_dict(ema_unet.state_dict())
            if ema_text is not None:
                pipe.text_encoder.load_state_dict(ema_text.state_dict())
        pipe.unet.eval()
        pipe.text_encoder.eval()
        _sync_motion_adapter(pipe)
        save_pipeline_atomic(pipe, run / PIPELINE_DIR, overwrite=True, extra_files={
            "cinestudio_base.json": json.dumps({"trained_by": "cinestudio diff train-base", "step": step,
                                                "config": asdict(cfg), "neutral_prompt": NEUTRAL_PROMPT},
                                               indent=2) + "\n"})
        samples = sample(pipe, cfg, run, step) if with_samples else None
        if samples:
            _write_metrics(run, {"stage": "unet", "step": step, "samples": samples})
        if with_eval and eval_movements(cfg):
            record = evaluate(pipe, cfg, run, step, tax)
            _write_metrics(run, record)
        return samples
    finally:
        with torch.no_grad():
            pipe.unet.load_state_dict(live)
            if live_text is not None:
                pipe.text_encoder.load_state_dict(live_text)
                pipe.text_encoder.train()
        pipe.unet.train()


def _finish(cfg, run, info, pipe, samples, vae_step, steps_done, stopped, t_start, losses=None) -> dict[str, Any]:
    last = round(float(np.mean(losses[-100:])), 5) if losses else None
    info.update({"status": "complete" if not stopped else f"stopped ({stopped})", "vae_steps_done": vae_step,
                 "steps_done": steps_done, "last_loss": last, "samples": samples,
                 "elapsed_s": round(time.perf_counter() - t_start, 1)})
    write_json_atomic(run / CONFIG_NAME, info)
    if stopped == "cancelled":
        raise Cancelled(f"stopped at UNet step {steps_done} (VAE {vae_step}); --resume continues")
    return {"run": str(run), "pipeline": str(run / PIPELINE_DIR), "vae_steps_done": vae_step,
            "steps_done": steps_done, "decoder_steps_done": info.get("decoder_steps_done", 0), "last_loss": last, "samples": samples, "status": info["status"],
            "elapsed_s": info["elapsed_s"]}
