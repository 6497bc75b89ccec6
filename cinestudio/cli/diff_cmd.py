"""``cinestudio diff make-tiny|render|train-base|info``: the diffusion backend from the command line.

torch and diffusers are imported inside the commands, so ``cinestudio --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, progress_bar, user_errors

diff_app = typer.Typer(help="CameraDiff: tiny test pipelines, composed renders, a small trained base.",
                       no_args_is_help=True)
app.add_typer(diff_app, name="diff")

DEVICE_HELP = "cpu, cuda (cuda:N) or auto."


@diff_app.command("make-tiny")
@user_errors
def make_tiny_cmd(
    out_dir: Path = typer.Argument(..., help="Folder to create (diffusers AnimateDiff layout)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random initialisation."),
    preset: str = typer.Option("test", "--preset", help="test (16 px, the smallest) or base (64 px, what train-base starts from)."),
    size: int | None = typer.Option(None, "--size", help="Default render size in pixels (default: the preset's)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty OUT_DIR."),
    as_json: bool = JsonOption,
) -> None:
    """Build a tiny, randomly initialised AnimateDiff pipeline offline and save it with save_pretrained."""
    from cinestudio.cameradiff.tiny import make_tiny

    overrides = {"image_size": size} if size else {}
    info = make_tiny(out_dir, seed=seed, preset=preset, overwrite=overwrite, **overrides)
    if as_json:
        emit_json(info)
        return
    n = info["parameters"]
    typer.echo(f"{info['out']}: tiny AnimateDiff ({info['preset']}, seed {seed}), "
               f"UNet {n['unet'] / 1e6:.2f}M, VAE {n['vae'] / 1e6:.2f}M, text {n['text_encoder'] / 1e6:.2f}M parameters")


@diff_app.command("info")
@user_errors
def info_cmd(
    base: str = typer.Argument(..., help="Base: diffusers folder or hub id."),
    motion_adapter: str | None = typer.Option(None, "--motion-adapter", help="MotionAdapter folder or hub id (SD-style bases)."),
    device: str = typer.Option("cpu", "--device", help=DEVICE_HELP),
    as_json: bool = JsonOption,
) -> None:
    """Load a base and describe it (classes, native size, scheduler, parameters)."""
    from cinestudio.cameradiff.backend import describe_pipeline, load_pipeline

    info = describe_pipeline(load_pipeline(base, device=device, motion_adapter=motion_adapter))
    if as_json:
        emit_json(info)
        return
    for k, v in info.items():
        typer.echo(f"{k:<17} {v}")


@diff_app.command("render")
@user_errors
def render_cmd(
    ctx: typer.Context,
    base: str | None = typer.Option(None, "--base", help="Base: diffusers folder or hub id."),
    prompt: str | None = typer.Option(None, "--prompt", help="Text prompt."),
    lora: list[str] = typer.Option([], "--lora", help="FILE[:WEIGHT][@START-END] — a LoRA file or run folder, its weight, "
                                                      "the frames it covers (repeatable)."),
    method: str = typer.Option("merge", "--method", help="merge, switch, composite or cliplora."),
    clip: Path | None = typer.Option(None, "--clip", help="CameraCLIP run folder (needed by cliplora; scores segments)."),
    steps: int = typer.Option(25, "--steps", min=1),
    frames: int = typer.Option(16, "--frames", min=2),
    size: int | None = typer.Option(None, "--size", help="Square frame size in pixels (default: the base's)."),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = typer.Option(None, "--out", help="OUT.mp4 (OUT.gif and OUT.json are written beside it)."),
    guidance: float = typer.Option(7.5, "--guidance", help="Classifier-free guidance scale."),
    negative_prompt: str | None = typer.Option(None, "--negative-prompt"),
    tau: int = typer.Option(2, "--tau", min=1, help="switch: denoising steps between LoRA changes."),
    k: int = typer.Option(5, "--k", min=1, help="cliplora: score every k steps."),
    temperature: float = typer.Option(0.1, "--temperature", help="cliplora: softmax temperature of the score gap."),
    momentum: float = typer.Option(0.5, "--momentum", help="cliplora: how far the weights move per scoring call (0-1)."),
    stop: float = typer.Option(0.8, "--stop", help="cliplora: no scoring after this fraction of the steps."),
    max_calls: int | None = typer.Option(None, "--max-calls", help="cliplora: scoring budget."),
    blend: int = typer.Option(2, "--blend", min=0, help="Frames of cross-fade between consecutive segments."),
    noise_share: float | None = typer.Option(
        None, "--noise-share", min=0.0, max=0.99,
        help="Share of the start noise common to all frames (0: independent; default: as the base was trained)."),
    noise_warp: float | None = typer.Option(
        None, "--noise-warp", help="Latent px per frame the shared noise slides with the pan/tilt LoRAs on each "
                                   "frame (needs --noise-share; ~0.7 on train-base bases; default: as trained)."),
    fps: float = typer.Option(8.0, "--fps"),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    dtype: str = typer.Option("auto", "--dtype", help="auto (fp16 on CUDA, fp32 on CPU), float32, float16, bfloat16."),
    motion_adapter: str | None = typer.Option(None, "--motion-adapter", help="MotionAdapter folder or hub id (SD-style bases)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="ddim: DDIM with AnimateDiff settings (default: the base's own)."),
    attention_slicing: bool = typer.Option(False, "--attention-slicing", help="Less GPU memory, a little slower."),
    cpu_offload: bool = typer.Option(False, "--cpu-offload", help="Model CPU offload (small GPUs)."),
    replay: Path | None = typer.Option(None, "--replay", help="Render again from a sidecar JSON (other options override it)."),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads."),
    as_json: bool = JsonOption,
) -> None:
    """Render one video with LoRAs composed by a method: OUT.mp4 + OUT.gif + OUT.json (sidecar)."""
    from cinestudio.cameradiff.render import RenderConfig, render
    from cinestudio.errors import UserInputError

    if threads:
        import torch

        torch.set_num_threads(threads)
    given = dict(base=base, prompt=prompt, out=str(out) if out else None, loras=list(lora) or None, method=method,
                 clip=str(clip) if clip else None, steps=steps, frames=frames, size=size, seed=seed, guidance=guidance,
                 negative_prompt=negative_prompt, tau=tau, k=k, temperature=temperature, momentum=momentum, stop=stop,
                 max_calls=max_calls, blend=blend, noise_share=noise_share, noise_warp=noise_warp, fps=fps, device=device, dtype=dtype, motion_adapter=motion_adapter,
                 scheduler=scheduler, attention_slicing=attention_slicing, cpu_offload=cpu_offload)
    if replay is not None:
        explicit = {name: value for name, value in given.items()
                    if getattr(ctx.get_parameter_source(_param_name(name)), "name", "") == "COMMANDLINE"}
        config = RenderConfig.from_sidecar(replay, **explicit)
    else:
        for name, value in (("--base", base), ("--prompt", prompt), ("--out", out)):
            if value is None:
                raise UserInputError(name, "required (or give --replay SIDECAR)")
        config = RenderConfig.from_dict({k: v for k, v in given.items() if v is not None or k in ("clip",)})
    with progress_bar(not as_json, f"rendering ({config.method})") as bar:
        sidecar = render(config, bar)
    if as_json:
        emit_json(sidecar)
        return
    out_path = Path(config.out)
    t = sidecar["timings"]
    typer.echo(f"{out_path} (+ .gif, .json): {config.frames} frames, {config.steps} steps, {config.method}, "
               f"{t['render_s']:.2f} s render")
    if sidecar.get("cliplora"):
        c = sidecar["cliplora"]
        typer.echo(f"  cliplora: {c['calls']} scoring calls, {c['skipped']} skipped, final multipliers {c['final_multipliers']}")
    for seg in sidecar["segments"]:
        clip_scores = seg.get("cameraclip") or {}
        scores = ", ".join(f"{k} {v['probability']:.2f}" for k, v in clip_scores.items())
        typer.echo(f"  frames {seg['start']}-{seg['end']}: {', '.join(x for x in seg['types'] if x) or 'no LoRA'}"
                   f"; flow: {seg['motion']['verdict']}" + (f"; CameraCLIP: {scores}" if scores else ""))


def _param_name(name: str) -> str:
    return {"loras": "lora"}.get(name, name)


@diff_app.command("train-base")
@user_errors
def train_base_cmd(
    data: Path = typer.Option(..., "--data", help="Simulator output folder (labels.jsonl) or an export manifest."),
    out: Path = typer.Option(..., "--out", help="Run folder (the trained pipeline is saved in OUT/pipeline)."),
    init: str | None = typer.Option(None, "--init", help="Start from this pipeline folder (default: a new `base` preset)."),
    size: int = typer.Option(32, "--size", help="Frame size in pixels (32-64)."),
    frames: int = typer.Option(8, "--frames"),
    vae_steps: int = typer.Option(1500, "--vae-steps", help="Autoencoder steps (stage 1)."),
    vae_batch: int = typer.Option(32, "--vae-batch", help="Frames per autoencoder step."),
    decoder_steps: int = typer.Option(0, "--decoder-steps", help="After the UNet: fine-tune the VAE decoder alone "
                                                                 "(latents unchanged; sharper pictures)."),
    steps: int = typer.Option(20000, "--steps", help="UNet steps (stage 2)."),
    batch_size: int = typer.Option(8, "--batch-size"),
    lr: float = typer.Option(3e-4, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    max_minutes: float | None = typer.Option(None, "--max-minutes", help="Stop (and save) after this long."),
    sample_every: int = typer.Option(1000, "--sample-every", help="UNet steps between samples (0: never)."),
    eval_every: int | None = typer.Option(None, "--eval-every", help="UNet steps between prompt-following "
                                          "evaluations (flow verdicts of samples per movement; default: with samples, 0: never)."),
    eval_seeds: int = typer.Option(2, "--eval-seeds", help="Samples per movement in each evaluation."),
    text: str = typer.Option("movement", "--text", help="Training text besides neutral/empty: movement (a prompt of "
                             "the clip's movement), caption, labels."),
    movement: list[str] | None = typer.Option(None, "--movement", help="Train only on clips of this movement "
                                              "(repeatable; a curriculum: the moves the flow estimator reads)."),
    neutral_fraction: float = typer.Option(0.2, "--neutral-fraction", help="Share of the neutral prompt 'a scene'."),
    motion_lr_scale: float = typer.Option(1.0, "--motion-lr-scale", help="Motion modules' learning rate / --lr."),
    ema: float = typer.Option(0.999, "--ema", help="EMA decay of the weights the pipeline is saved with."),
    prediction: str | None = typer.Option(None, "--prediction", help="epsilon or v_prediction (default: the start "
                                          "pipeline's; a new base: epsilon)."),
    min_snr: float = typer.Option(5.0, "--min-snr", help="min-SNR-γ loss weighting (0: none; with v_prediction "
                                  "that weighs the noisiest steps' x̂0 error ~1 instead of ~0.005)."),
    crop: float = typer.Option(1.0, "--crop", help="Train on the centre of frames read at size/crop px (< 1: "
                               "camera moves cover 1/crop times more of the picture)."),
    motion_loss: float = typer.Option(0.0, "--motion-loss", help="Weight of a loss on the frame-to-frame "
                                      "differences of the noise-prediction error."),
    text_lr: float = typer.Option(1e-3, "--text-lr", help="Learning rate of the text encoder, trained along "
                                  "(0: frozen at its random initialisation)."),
    vae_from: str | None = typer.Option(None, "--vae-from", help="Reuse the trained VAE of this pipeline or "
                                        "train-base run (skips stage 1)."),
    noise_share: float = typer.Option(0.0, "--noise-share", help="Share of the noise variance common to all frames "
                                      "(mixed noise, in training and in the samples' start; 0: independent frames)."),
    text_aux: float = typer.Option(0.0, "--text-aux", help="Weight of a movement-classification loss on the text "
                                   "encoder's pooled output (keeps the movement prompts apart; needs --text-lr > 0)."),
    noise_warp: float = typer.Option(0.0, "--noise-warp", help="Latent px per frame the shared noise slides along "
                                     "the clip's camera move in training and along the prompted move in the "
                                     "samples (pans, tilts; needs --noise-share)."),
    checkpoint_every: int = typer.Option(250, "--checkpoint-every", help="Steps between checkpoints."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    as_json: bool = JsonOption,
) -> None:
    """Train a small AnimateDiff base on simulator clips (VAE, then UNet + motion modules); resumable."""
    from cinestudio.cameradiff.train_base import BaseTrainConfig, train_base

    config = BaseTrainConfig(data=str(data), out=str(out), init=init, size=size, frames=frames, vae_steps=vae_steps,
                             vae_batch=vae_batch, decoder_steps=decoder_steps, checkpoint_every=checkpoint_every, steps=steps, batch_size=batch_size, lr=lr, seed=seed, max_minutes=max_minutes,
                             sample_every=sample_every, device=device, threads=threads, eval_every=eval_every, eval_seeds=eval_seeds,
                             text=text, movements=list(movement) if movement else None,
                             neutral_fraction=neutral_fraction, motion_lr_scale=motion_lr_scale, ema=ema, text_lr=text_lr, crop=crop, motion_loss=motion_loss, prediction=prediction, min_snr=min_snr, vae_from=vae_from,
                             noise_share=noise_share, text_aux=text_aux,
                             noise_warp=noise_warp)
    with progress_bar(not as_json, "training base") as bar:
        summary = train_base(config, bar, resume=resume)
    if as_json:
        emit_json(summary)
        return
    typer.echo(f"{summary['pipeline']}: VAE {summary['vae_steps_done']} steps, UNet {summary['steps_done']} steps "
               f"in {summary['elapsed_s']:.0f} s; last loss {summary.get('last_loss')}")
