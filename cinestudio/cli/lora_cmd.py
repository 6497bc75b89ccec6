"""``cinestudio lora train|list|train-all``: one LoRA per cinematic type.

LoRA runs live in the workspace's ``runs/`` folder (``--out`` defaults to ``runs/lora-<type>``), which
is where ``lora list`` looks. torch and diffusers are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cinestudio.cli.app import STATE, JsonOption, app, emit_json, progress_bar, user_errors

lora_app = typer.Typer(help="CameraDiff LoRAs: train one per cinematic type, list a workspace's.",
                       no_args_is_help=True)
app.add_typer(lora_app, name="lora")


def _workspace():
    from cinestudio.workspace import resolve_workspace

    return resolve_workspace(STATE.workspace)


def _default_out(key: str) -> Path:
    runs = _workspace().runs_dir
    out = runs / f"lora-{key}"
    i = 2
    while out.exists() and any(out.iterdir()):
        out, i = runs / f"lora-{key}-{i}", i + 1
    return out


@lora_app.command("train")
@user_errors
def train_cmd(
    type_key: str = typer.Option(..., "--type", help="Class key of the type (e.g. pan_left, close_up, low_angle)."),
    data: Path = typer.Option(..., "--data", help="Simulator output folder (labels.jsonl) or an export manifest."),
    base: str = typer.Option(..., "--base", help="Base: diffusers folder or hub id."),
    out: Path | None = typer.Option(None, "--out", help="Run folder (default: WORKSPACE/runs/lora-<type>)."),
    rank: int = typer.Option(8, "--rank", min=1),
    alpha: float | None = typer.Option(None, "--alpha", help="LoRA alpha (default: the rank)."),
    target: str = typer.Option("auto", "--target", help="auto (motion modules for movements, spatial attention for "
                                                        "framing/angle), motion, spatial or both."),
    steps: int = typer.Option(500, "--steps", min=1),
    lr: float = typer.Option(1e-4, "--lr"),
    batch_size: int = typer.Option(1, "--batch-size", min=1),
    resolution: int | None = typer.Option(None, "--resolution", help="Square training size (default: the base's)."),
    crop: float | None = typer.Option(None, "--crop", help="Centre crop of the clips (default: the one the base was "
                                      "trained with by train-base, else none)."),
    frames: int = typer.Option(16, "--frames", min=2),
    seed: int = typer.Option(0, "--seed"),
    prompt: str = typer.Option("class", "--prompt", help="Training text: class, caption, labels, empty, or a fixed text."),
    augment: bool = typer.Option(True, "--augment/--no-augment", help="Label-true flips and time reversals."),
    preview_every: int = typer.Option(100, "--preview-every", min=0, help="Steps between preview samples (0: none)."),
    preview_steps: int = typer.Option(20, "--preview-steps", min=1),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every", min=1),
    max_minutes: float | None = typer.Option(None, "--max-minutes"),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    motion_adapter: str | None = typer.Option(None, "--motion-adapter"),
    threads: int | None = typer.Option(None, "--threads"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its checkpoint."),
    as_json: bool = JsonOption,
) -> None:
    """Train the LoRA of one cinematic type (a run folder with config, metrics, previews, the LoRA file)."""
    from cinestudio.cameradiff.train_lora import LoraTrainConfig, train_lora
    from cinestudio.taxonomy import load_taxonomy

    load_taxonomy().axis_of(type_key)  # unknown keys fail before anything loads
    if out is None:
        out = _default_out(type_key) if not resume else _workspace().runs_dir / f"lora-{type_key}"
    config = LoraTrainConfig(type=type_key, data=str(data), base=base, out=str(out), rank=rank, alpha=alpha,
                             target=target, steps=steps, lr=lr, batch_size=batch_size, resolution=resolution, crop=crop,
                             frames=frames, seed=seed, prompt=prompt, augment=augment, preview_every=preview_every,
                             preview_steps=preview_steps, checkpoint_every=checkpoint_every,
                             max_minutes=max_minutes, device=device, motion_adapter=motion_adapter, threads=threads)
    with progress_bar(not as_json, f"training {type_key}") as bar:
        summary = train_lora(config, bar, resume=resume)
    if as_json:
        emit_json(summary)
        return
    m = summary["metrics"]
    typer.echo(f"{summary['lora']}: {summary['type']} ({summary['axis']}, {summary['target']} attention), "
               f"{summary['steps']} steps on {summary['examples']} examples, final loss {m['final_loss']}"
               + (f", preview motion {m['preview_motion']}" if m.get("preview_motion") else ""))


@lora_app.command("list")
@user_errors
def list_cmd(as_json: bool = JsonOption) -> None:
    """The LoRAs of the workspace (its runs folder) with type, base, status and metrics."""
    from cinestudio.cameradiff.runs import list_loras

    ws = _workspace()
    entries = list_loras(ws.runs_dir, ws.root)
    if as_json:
        emit_json({"workspace": str(ws.root), "loras": entries})
        return
    if not entries:
        typer.echo(f"no LoRA runs in {ws.runs_dir}")
        return
    for e in entries:
        loss = (e.get("metrics") or {}).get("final_loss")
        typer.echo(f"{str(e['type']):<18} {e['status']:<24} steps {e['steps'] or 0:<6} loss {loss if loss is not None else '-':<10} "
                   f"{e['lora'] or e['run']}")


@lora_app.command("train-all")
@user_errors
def train_all_cmd(
    data: str = typer.Option(..., "--data", help="Clips to train on (relative to the workspace, or absolute)."),
    base: str = typer.Option(..., "--base", help="Base: diffusers folder or hub id."),
    steps: int = typer.Option(500, "--steps", min=1),
    rank: int = typer.Option(8, "--rank", min=1),
    resolution: int | None = typer.Option(None, "--resolution"),
    frames: int = typer.Option(16, "--frames", min=2),
    types: list[str] = typer.Option([], "--type", help="Only these types (repeatable; default: every class of the scheme)."),
    device: str = typer.Option("auto", "--device"),
    as_json: bool = JsonOption,
) -> None:
    """Queue one ``lora-train`` job per class of the scheme (the job runner trains them)."""
    from cinestudio.jobs.lora_train import queue_every_type
    from cinestudio.store import open_workspace

    config: dict = {"data": data, "base": base, "steps": steps, "rank": rank, "frames": frames}
    if resolution:
        config["resolution"] = resolution
    with open_workspace(_workspace().root) as store:
        queued, skipped = queue_every_type(store, config, device, list(types) or None)
    jobs = [{"id": job.id, "type": job.config["type"], "run": job.run_dir} for job in queued]
    if as_json:
        emit_json({"queued": jobs, "skipped": skipped})
        return
    for j in jobs:
        typer.echo(f"queued job {j['id']}: lora-train {j['type']} -> {j['run']}")
    for s in skipped:
        typer.echo(f"skipped {s['type']}: {s['reason']}")
