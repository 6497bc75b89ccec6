"""The dataset workflow: ``import``, ``clips``, ``annotate``, ``verify``, ``stats``, ``export``.

Thin wrappers over `cinestudio.dataset`: parse, call the use-case, print. The use-cases (and
the store) are imported inside the commands so ``cinestudio --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cinestudio.cli.app import STATE, JsonOption, app, emit_json, fail, progress_bar, user_errors
from cinestudio.errors import UserInputError
from cinestudio.workspace import DB_FILENAME, default_workspace_dir

STAGE_HELP = "collected, annotated, verified or rejected."


def _root() -> Path:
    return Path(STATE.workspace).expanduser() if STATE.workspace else default_workspace_dir()


def _open(create: bool = False) -> Any:
    """The workspace of ``--workspace``; only `create` commands make a new one."""
    from cinestudio.store import open_workspace

    root = _root()
    if not create and not (root / DB_FILENAME).is_file():
        raise UserInputError(root, "not a CineStudio workspace (import videos into it first, or "
                                   "create one with `cinestudio --workspace DIR workspace init`)")
    return open_workspace(root)


# ---------------------------------------------------------------------------------------------
# import

@app.command("import")
@user_errors
def import_cmd(
    paths: list[Path] = typer.Argument(..., help="Video files or folders (searched recursively)."),
    min_frames: int | None = typer.Option(
        None, "--min-frames", help="Skip shots shorter than this many frames "
                                   "(default: the workspace setting, else 8)."),
    as_json: bool = JsonOption,
) -> None:
    """Import videos: split into shots, thumbnails, motion pre-labels; skip duplicates by content.

    Exit code 0 when every file went in (or was in already), 1 when some failed (the others
    are imported), 2 for usage errors.
    """
    from cinestudio.dataset.collect import import_paths

    with _open(create=True) as store, progress_bar(not as_json, "importing") as bar:
        report = import_paths(store, paths, min_frames=min_frames, progress=bar)
    for err in report.errors:
        typer.echo(f"error: {err['path']}: {err['error']}", err=True)
    if as_json:
        emit_json(report.to_dict())
    else:
        for entry in report.imported:
            skipped = len(entry["skipped"])
            extra = f" ({skipped} short shot{'s' if skipped != 1 else ''} skipped)" if skipped else ""
            typer.echo(f"imported {entry['path']}: {len(entry['clips'])} clip"
                       f"{'s' if len(entry['clips']) != 1 else ''}{extra}")
        for dup in report.duplicates:
            typer.echo(f"duplicate {dup['path']}: same content as {dup['duplicate_of']} "
                       f"({dup['match']})")
        if report.already_imported:
            typer.echo(f"{len(report.already_imported)} file(s) already imported, skipped")
        n_clips = len(report.clip_ids)
        typer.echo(f"{len(report.imported)} imported ({n_clips} clips), "
                   f"{len(report.duplicates)} duplicate(s), {len(report.errors)} failed")
    raise typer.Exit(report.exit_code)


# ---------------------------------------------------------------------------------------------
# clips / annotate

def _label_text(label: Any) -> str:
    moves = " → ".join(label.movements) or "—"
    return f"{label.framing or '—'} · {label.angle or '—'} · {moves}"


@app.command("clips")
@user_errors
def clips_cmd(
    stage: str | None = typer.Option(None, "--stage", help=STAGE_HELP),
    annotator: str | None = typer.Option(None, "--annotator", help="Only clips this annotator labelled."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many clips."),
    prelabels_disagree: bool = typer.Option(False, "--prelabels-disagree",
                                            help="Only clips whose pre-labellers put different first "
                                                 "choices on an axis (e.g. CameraCLIP against motion)."),
    as_json: bool = JsonOption,
) -> None:
    """List clips with their labels, pre-labels and verified label."""
    from cinestudio.dataset.annotate import clip_dict, list_clips
    from cinestudio.store import ClipFilter

    with _open() as store:
        clips = list_clips(store, ClipFilter(stage=stage, annotator=annotator,
                                              prelabels_disagree=prelabels_disagree or None), limit=limit)
        sources = {s.id: s for s in store.sources.all()} if clips else {}
    if as_json:
        emit_json([clip_dict(c, sources.get(c.source_id)) for c in clips])
        return
    if not clips:
        typer.echo("no clips" + (f" at stage {stage}" if stage else ""))
        return
    for c in clips:
        src = sources.get(c.source_id)
        typer.echo(f"{c.id:>6}  {c.stage:<9}  {src.display_name if src else c.source_id}"
                   f" [{c.start_frame}, {c.end_frame})")
        for lab in c.labels:
            typer.echo(f"          {lab.annotator}: {_label_text(lab)}")
        if c.review is not None:
            r = c.review
            what = f"rejected: {r.reason}" if r.decision == "reject" else _label_text(r)
            typer.echo(f"          verified by {r.reviewer} ({r.decision}): {what}")
        elif not c.labels and c.prelabels:
            top = [p for p in c.prelabels if p.rank == 0]
            typer.echo("          suggested: " + ", ".join(
                f"{p.key} ({p.origin} {p.confidence:.2f})" if p.confidence is not None
                else f"{p.key} ({p.origin})" for p in top))


@app.command("annotate")
@user_errors
def annotate_cmd(
    clip: int = typer.Argument(..., help="Clip id (see `cinestudio clips`)."),
    annotator: str = typer.Option(..., "--annotator", help="Who labels."),
    framing: str = typer.Option(..., "--framing", help="Framing class key."),
    angle: str = typer.Option(..., "--angle", help="Angle class key."),
    movement: list[str] = typer.Option(..., "--movement",
                                       help="Movement class key; repeat for several, in order."),
    caption: str | None = typer.Option(None, "--caption", help="Free-text caption."),
    as_json: bool = JsonOption,
) -> None:
    """Label a clip (keys are checked against the workspace's taxonomy scheme)."""
    from cinestudio.dataset.annotate import annotate_clip, label_dict

    with _open() as store:
        label = annotate_clip(store, clip, annotator, framing=framing, angle=angle,
                              movements=movement, caption=caption)
        stage = store.clips.get(clip).stage
    if as_json:
        emit_json({"clip_id": clip, "annotator": label.annotator, "stage": stage,
                   **label_dict(label)})
    else:
        typer.echo(f"clip {clip} labelled by {label.annotator}: {_label_text(label)} ({stage})")


# ---------------------------------------------------------------------------------------------
# verify / stats

@app.command("verify")
@user_errors
def verify_cmd(
    clip: int = typer.Argument(..., help="Clip id."),
    reviewer: str = typer.Option(..., "--reviewer", help="Who reviews."),
    accept: bool = typer.Option(False, "--accept", help="Accept the annotators' label."),
    reject: bool = typer.Option(False, "--reject", help="Reject the clip (needs --reason)."),
    reason: str | None = typer.Option(None, "--reason", help="Why the clip is rejected."),
    fix: list[str] = typer.Option([], "--fix", help="AXIS=KEY to correct (repeat; movement in order)."),
    from_annotator: str | None = typer.Option(None, "--from", help="Start from this annotator's label."),
    caption: str | None = typer.Option(None, "--caption", help="Replace the caption."),
    as_json: bool = JsonOption,
) -> None:
    """Accept, reject or fix a clip's label; the verified label is what export uses."""
    from cinestudio.dataset.annotate import label_dict
    from cinestudio.dataset.verify import parse_fixes, verify_clip

    chosen = [name for name, on in (("--accept", accept), ("--reject", reject), ("--fix", bool(fix)))
              if on]
    if len(chosen) != 1:
        raise fail("verify", "give exactly one of --accept, --reject --reason TEXT, --fix AXIS=KEY")
    if reason is not None and not reject:
        raise fail("--reason", "only goes with --reject")
    decision = {"--accept": "accept", "--reject": "reject", "--fix": "fix"}[chosen[0]]
    fixes = parse_fixes(fix)
    with _open() as store:
        review = verify_clip(store, clip, reviewer, decision=decision, reason=reason, fixes=fixes,
                             from_annotator=from_annotator, caption=caption)
    if as_json:
        emit_json({"clip_id": clip, "reviewer": review.reviewer, "decision": review.decision,
                   "reason": review.reason, **label_dict(review),
                   "stage": "rejected" if review.decision == "reject" else "verified"})
    elif review.decision == "reject":
        typer.echo(f"clip {clip} rejected by {review.reviewer}: {review.reason}")
    else:
        typer.echo(f"clip {clip} verified by {review.reviewer} ({review.decision}): "
                   f"{_label_text(review)}")


@app.command("stats")
@user_errors
def stats_cmd(as_json: bool = JsonOption) -> None:
    """Clips per stage, class balance per axis, inter-annotator agreement (kappa) per axis."""
    from cinestudio.dataset.stats import dataset_stats

    with _open() as store:
        stats = dataset_stats(store)
    if as_json:
        emit_json(stats)
        return
    clips = stats["clips"]
    typer.echo(f"scheme {stats['scheme']}: {stats['sources']} sources, {clips['total']} clips — "
               + ", ".join(f"{clips[s]} {s}" for s in ("collected", "annotated", "verified",
                                                       "rejected")))
    typer.echo(f"{stats['labels']} labels by {len(stats['annotators'])} annotator(s), "
               f"{stats['reviews']} reviews")
    for axis, table in stats["balance"]["verified"].items():
        counts = ", ".join(f"{k} {v}" for k, v in table.items() if v)
        typer.echo(f"verified {axis:<9} {counts or '—'}")
    for axis, table in stats["balance"]["labels"].items():
        counts = ", ".join(f"{k} {v}" for k, v in table.items() if v)
        if counts:
            typer.echo(f"labelled {axis:<9} {counts}")
    for axis, a in stats["agreement"].items():
        if a["items"]:
            kappa = "undefined" if a["kappa"] is None else f"{a['kappa']:.3f}"
            typer.echo(f"agreement {axis:<9} {a['method']} kappa {kappa} over {a['items']} "
                       f"clips, {a['raters']} annotators ({a['disagreements']} disagreements)")
        else:
            typer.echo(f"agreement {axis:<9} — (no clip has two annotators)")


# ---------------------------------------------------------------------------------------------
# export / demo

@app.command("export")
@user_errors
def export_cmd(
    out: Path = typer.Argument(..., help="Folder to create: manifest + clips/."),
    stage: str = typer.Option("verified", "--stage", help="verified (reviewed labels) or annotated."),
    fmt: str = typer.Option("jsonl", "--format", help="Manifest format: jsonl or csv."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="train,val,test fractions."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it holds something."),
    as_json: bool = JsonOption,
) -> None:
    """Cut the clips from their sources (H.264 MP4) with a manifest and stratified splits."""
    from cinestudio.dataset.export import export_dataset

    with _open() as store, progress_bar(not as_json, "exporting") as bar:
        report = export_dataset(store, out, stage=stage, fmt=fmt, split=split, seed=seed,
                                overwrite=overwrite, progress=bar)
    for err in report.errors:
        typer.echo(f"error: {err['path']}: clip {err['clip_id']} not exported: {err['error']}",
                   err=True)
    if as_json:
        emit_json(report.to_dict())
    else:
        splits = ", ".join(f"{n} {s}" for s, n in sorted(report.splits.items()))
        typer.echo(f"exported {report.clips} clips to {report.out} ({splits}); "
                   f"manifest {report.manifest}")
    raise typer.Exit(report.exit_code)


@app.command("demo")
@user_errors
def demo_cmd(as_json: bool = JsonOption) -> None:
    """Fill the workspace with demo content (simulator clips imported, labelled, verified).

    Runs in seconds to a minute on a CPU with no downloads; a second run does nothing.
    """
    from cinestudio.dataset.demo import build_demo

    with _open(create=True) as store, progress_bar(not as_json, "demo") as bar:
        result = build_demo(store, progress=bar)
    if as_json:
        emit_json(result)
    elif result["created"]:
        typer.echo(f"demo workspace ready in {result['seconds']} s: {result['workspace']} — "
                   f"{result['clips']} clips, {result['labels']} labels by "
                   f"{', '.join(result['annotators'])}, {result['reviews']} reviews")
    else:
        typer.echo(f"demo workspace already built ({result['clips']} clips): "
                   f"{result['workspace']} — nothing to do")
