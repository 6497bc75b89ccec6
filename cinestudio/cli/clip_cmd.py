"""``cinestudio clip train|expert|manifest|eval|classify|score``: CameraCLIP from the command line.

torch and open_clip are imported inside the commands, so ``cinestudio --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, progress_bar, user_errors

clip_app = typer.Typer(help="CameraCLIP: train, evaluate, classify clips, score texts against a clip.",
                       no_args_is_help=True)
app.add_typer(clip_app, name="clip")

DEVICE_HELP = "cpu, cuda or auto."


@clip_app.command("train")
@user_errors
def train_cmd(
    data: Path = typer.Option(..., "--data", help="Simulator output folder (labels.jsonl) or an export manifest."),
    out: Path = typer.Option(..., "--out", help="Run folder to create (or to continue with --resume)."),
    model: str = typer.Option("cameraclip-tiny-rn", "--model", help="open_clip architecture."),
    pretrained: str | None = typer.Option(None, "--pretrained", help="open_clip tag (e.g. openai) or checkpoint file."),
    pooling: str = typer.Option("motion", "--pooling", help="Temporal pooling: motion (default), temporal or mean."),
    recipe: str = typer.Option("auto", "--recipe", help="full, scratch (all but the token-embedding table), paper (last blocks only) or auto "
                                                        "(paper with --pretrained, else scratch)."),
    epochs: int = typer.Option(16, "--epochs", min=1, help="Passes over the training clips (or --max-minutes, whichever ends first)."),
    batch_size: int = typer.Option(32, "--batch-size", min=2),
    lr: float = typer.Option(1e-3, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    max_minutes: float = typer.Option(15.0, "--max-minutes", min=0.0, help="Time budget of the training loop in minutes (after frame caching): the learning rate anneals to 0 by then, or by the last epoch, whichever comes first; 0: no budget."),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads (default on CPU: 1 or all "
                                             "cores, whichever runs steps faster, checked again during the run; "
                                             "fix it for a run that repeats exactly)."),
    cache: Path | None = typer.Option(None, "--cache", help="Frame cache folder (default RUN/cache)."),
    movement_prior: float | None = typer.Option(None, "--movement-prior", help="Bonus (nats) on the classical motion estimator's movement class when classifying; 0: the learned model alone."),
    motion_features: int = typer.Option(0, "--motion-features", min=0, help="Motion feature version of a new run (1-4; 0: the default, 4)."),
    movement_focus: float = typer.Option(0.0, "--movement-focus", min=0.0, help="Focal weighting of hard clips in the movement loss ((1-p)^focus; 0: off)."),
    scale_expert_clips: int = typer.Option(400, "--scale-expert-clips", min=0, help="Clips the simulator renders per framing and scale move for the run's zoom/dolly expert (trained after CameraCLIP); 0: no expert."),
    scale_expert_epochs: int = typer.Option(8, "--scale-expert-epochs", min=1, help="Passes of the zoom/dolly expert over its clips."),
    track_expert_clips: int = typer.Option(200, "--track-expert-clips", min=0, help="Pans each way the simulator renders per framing (and twice as many tracking shots) for the run's pan/tracking expert; 0: no expert."),
    track_expert_epochs: int = typer.Option(8, "--track-expert-epochs", min=1, help="Passes of the pan/tracking expert over its clips."),
    movement_cnn_epochs: int = typer.Option(8, "--movement-cnn-epochs", min=0, help="Passes of the run's movement CNN (a second movement reader, trained after CameraCLIP on the same clips) over them; 0: none."),
    reuse_expert: bool = typer.Option(True, "--reuse-expert/--no-reuse-expert", help="Copy an expert trained earlier with the same settings (clips, epochs, seed, code) instead of training it again; a new one is kept for reuse."),
    expert_cache: Path | None = typer.Option(None, "--expert-cache", help="Folder of experts kept for reuse (default: the per-user cache folder)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    as_json: bool = JsonOption,
) -> None:
    """Train CameraCLIP; the run folder gets config.json, metrics.jsonl, training.png, checkpoints."""
    from cinestudio.cameraclip.train import TrainConfig, train

    config = TrainConfig(data=str(data), out=str(out), model=model, pretrained=pretrained, pooling=pooling,
                         recipe=recipe, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                         max_minutes=max_minutes or None, threads=threads, cache=str(cache) if cache else None,
                         motion_features=motion_features, movement_focus=movement_focus,
                         scale_expert_clips=scale_expert_clips, scale_expert_epochs=scale_expert_epochs,
                         track_expert_clips=track_expert_clips, track_expert_epochs=track_expert_epochs,
                         movement_cnn_epochs=movement_cnn_epochs, reuse_expert=reuse_expert, expert_cache=str(expert_cache) if expert_cache else None)
    if movement_prior is not None:
        config.movement_prior = movement_prior
    with progress_bar(not as_json, "training") as bar:
        summary = train(config, bar, resume=resume)
    if as_json:
        emit_json(summary)
        return
    r1 = ", ".join(f"{a} {v:.3f}" for a, v in summary["val_r1"].items() if v is not None)
    typer.echo(f"{summary['run']}: {summary['steps']} steps in {summary['elapsed_s']:.0f} s"
               + (f"; validation R@1 {r1}" if r1 else ""))
    _echo_experts(summary)
    val_r1 = summary.get("val_r1_with_expert")
    if val_r1 and val_r1.get("movement") is not None:
        typer.echo(f"validation movement R@1 with the experts {val_r1['movement']:.3f}")


def _echo_experts(summary: dict) -> None:
    from cinestudio.cameraclip.experts import PAIRS
    from cinestudio.cameraclip.movement_cnn import CONFIG_KEY

    cnn = summary.get(CONFIG_KEY)
    if cnn:
        typer.echo(f"movement CNN: {cnn['clips']} training clips, {cnn['steps']} steps in {cnn['train_s']:.0f} s")
    for pair in PAIRS.values():
        expert = summary.get(pair.config_key)
        if not expert:
            continue
        line = (f"{expert['clips']} rendered clips in {expert['render_s']:.0f} s, "
                f"{expert['steps']} steps in {expert['train_s']:.0f} s, held-out accuracy {expert['val_accuracy']}")
        if expert.get("reused"):
            line = f"reused from {expert['reused']} (trained earlier: {line})"
        typer.echo(f"{pair.title} expert: {line}")


@clip_app.command("expert")
@user_errors
def expert_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    pair: str = typer.Option("all", "--pair", help="Which expert: scale (zoom/dolly), track (pan/tracking), all (those the run's scheme has classes for) or movement (the movement CNN, on the run's own training clips)."),
    clips: int | None = typer.Option(None, "--clips", min=1, help="Clips rendered per framing and move, for each expert trained (default: the run's setting, else 400 zoom/dolly, 200 pan/tracking)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Passes over them (default: the run's setting, else 8)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the renders and the training (default: the run's)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    reuse: bool | None = typer.Option(None, "--reuse/--no-reuse", help="Copy an expert kept with the same settings instead of training (default: as the run did)."),
    expert_cache: Path | None = typer.Option(None, "--expert-cache", help="Folder of experts kept for reuse (default: the run's, else the per-user cache folder)."),
    as_json: bool = JsonOption,
) -> None:
    """Train (or train again) a run's experts: small CNNs beside CameraCLIP that decide zoom against
    dolly and pan against tracking with it, on clips the simulator renders for them; or its
    movement CNN (--pair movement), which reads every movement class with it."""
    from cinestudio.cameraclip.experts import PAIRS
    from cinestudio.cameraclip.movement_cnn import CONFIG_KEY
    from cinestudio.cameraclip.train import add_expert_to_run, add_movement_cnn_to_run, pairs_for_run
    from cinestudio.errors import UserInputError

    if pair == "movement":
        with progress_bar(not as_json, "movement CNN") as bar:
            summary = {CONFIG_KEY: add_movement_cnn_to_run(run, epochs=epochs, seed=seed, device=device, progress=bar)}
        if as_json:
            emit_json(summary)
        else:
            _echo_experts(summary)
        return
    if pair != "all" and pair not in PAIRS:
        raise UserInputError(pair, f"--pair must be all, movement or one of {', '.join(PAIRS)}")
    chosen_pairs = pairs_for_run(run) if pair == "all" else [PAIRS[pair]]
    if not chosen_pairs:
        raise UserInputError(run, "the run's scheme has no classes an expert tells apart (zoom/dolly, pan/tracking)")
    summary = {}
    for chosen in chosen_pairs:
        with progress_bar(not as_json, f"{chosen.title} expert") as bar:
            summary[chosen.config_key] = add_expert_to_run(run, chosen, clips=clips, epochs=epochs, seed=seed,
                                                           device=device, progress=bar, reuse=reuse,
                                                           expert_cache=expert_cache)
    if as_json:
        emit_json(summary)
        return
    _echo_experts(summary)


@clip_app.command("manifest")
@user_errors
def manifest_cmd(
    out: Path = typer.Argument(..., help="Manifest file to write (JSON lines)."),
    data: list[Path] = typer.Option(..., "--data", help="Simulator output folder or export manifest; repeat to combine."),
    as_json: bool = JsonOption,
) -> None:
    """Combine several data sets into one manifest for `clip train --data OUT`."""
    from cinestudio.cameraclip.data import write_manifest

    count = write_manifest(data, out)
    if as_json:
        emit_json({"manifest": str(out), "clips": count, "sources": [str(d) for d in data]})
        return
    typer.echo(f"{out}: {count} clips from {len(data)} source(s)")


@clip_app.command("eval")
@user_errors
def eval_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    data: Path = typer.Option(..., "--data", help="Simulator output folder or export manifest."),
    report: Path | None = typer.Option(None, "--report", help="Folder for confusion.png and misread.png (default RUN/eval)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    movement_prior: float | None = typer.Option(None, "--movement-prior", help="Estimator-prior bonus on movement (default: the run's; 0: the learned model alone)."),
    scale_expert: bool = typer.Option(True, "--scale-expert/--no-scale-expert", help="With the run's zoom/dolly expert, when it has one."),
    track_expert: bool = typer.Option(True, "--track-expert/--no-track-expert", help="With the run's pan/tracking expert, when it has one."),
    movement_cnn: bool = typer.Option(True, "--movement-cnn/--no-movement-cnn", help="With the run's movement CNN, when it has one."),
    four_ways: bool = typer.Option(True, "--four-ways/--one-way", help="Read movement from each clip as is, mirrored, reversed and both (the default, as classify does), or only as is."),
    as_json: bool = JsonOption,
) -> None:
    """Retrieval R@1 per axis, confusion matrices and direction flip rates."""
    from cinestudio.cameraclip.evaluate import evaluate
    from cinestudio.cameraclip.experts import expert_names

    with progress_bar(not as_json, "evaluating") as bar:
        result = evaluate(run, data, report_dir=report, device=device, progress=bar, movement_prior=movement_prior,
                          experts=expert_names(scale=scale_expert, track=track_expert),
                          four_ways=four_ways, movement_cnn=movement_cnn)
    if as_json:
        emit_json(result)
        return
    typer.echo(f"{result['n']} clips, mean R@1 {result['r1']}")
    for axis, v in result["per_axis"].items():
        typer.echo(f"  {axis:<9} R@1 {'-' if v is None else f'{v:.3f}'} ({result['counts'][axis]} labelled)")
    flips = result["flips"]
    if flips["n"]:
        typer.echo(f"  direction flips {flips['flips']}/{flips['n']} ({flips['rate']:.1%})")
    typer.echo(f"  confusion matrices: {result['confusion_png']}")
    if result["misread_png"]:
        shown = result["misread"]
        typer.echo(f"  misread clips: {result['misread_png']} ({shown['shown']} of {shown['n']} shown)")


def _clip_frames(loaded, file: Path, start: int, end: int | None):
    from cinestudio.cameraclip.infer import read_clip

    return read_clip(file, loaded.model.spec.num_frames, start, end)


@clip_app.command("classify")
@user_errors
def classify_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    file: Path = typer.Argument(..., help="Video file."),
    start: int = typer.Option(0, "--start", help="First frame."),
    end: int | None = typer.Option(None, "--end", help="End frame (exclusive)."),
    top: int = typer.Option(3, "--top", help="Classes shown per axis (text output)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    as_json: bool = JsonOption,
) -> None:
    """Per axis, the classes ranked by score for one clip."""
    from cinestudio.cameraclip.infer import classify_frames, load_run

    loaded = load_run(run, device)
    result = classify_frames(loaded, _clip_frames(loaded, file, start, end))
    if as_json:
        emit_json({"file": str(file), "axes": result})
        return
    for axis, ranked in result.items():
        typer.echo(f"{axis:<9} " + ", ".join(f"{r['key']} {r['score']:.2f}" for r in ranked[:top]))


@clip_app.command("score")
@user_errors
def score_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    file: Path = typer.Argument(..., help="Video file."),
    text: list[str] = typer.Option(..., "--text", help="A description to score (repeatable)."),
    start: int = typer.Option(0, "--start"),
    end: int | None = typer.Option(None, "--end"),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    as_json: bool = JsonOption,
) -> None:
    """Cosine similarity between the clip and each text."""
    from cinestudio.cameraclip.infer import load_run, score_frames

    loaded = load_run(run, device)
    sims = score_frames(loaded, _clip_frames(loaded, file, start, end), list(text))
    scores = [{"text": t, "similarity": round(float(s), 4)} for t, s in zip(text, sims)]
    if as_json:
        emit_json({"file": str(file), "scores": scores})
        return
    for s in scores:
        typer.echo(f"{s['similarity']:+.3f}  {s['text']}")
