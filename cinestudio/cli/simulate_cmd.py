"""``cinestudio simulate``: exactly labelled clips from the procedural camera simulator."""

from __future__ import annotations

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, progress_bar, user_errors
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME


@app.command()
@user_errors
def simulate(
    out: str = typer.Argument(..., help="Output folder (clips/ and labels.jsonl are written there)."),
    per_class: int = typer.Option(1, "--per-class", help="Clips per class of each axis (as that axis's target)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same dataset."),
    size: int = typer.Option(64, "--size", help="Frame width and height in pixels."),
    frames: int = typer.Option(16, "--frames", help="Frames per clip."),
    fps: float = typer.Option(8.0, "--fps", help="Frame rate of the clips."),
    scheme: str = typer.Option(DEFAULT_SCHEME, "--scheme", help="Taxonomy scheme (name or JSON file)."),
    crf: int = typer.Option(0, "--crf", help="H.264 quality: 0 = lossless (exact, reproducible frames) … 51."),
    subject_walks: float = typer.Option(0.15, "--subject-walks",
                                        help="Share of shots (not tracking or rack focus) whose subject walks across "
                                             "the frame on its own, 0-1 (0: none, as before December 2026)."),
    passers_by: float = typer.Option(0.0, "--passers-by",
                                     help="Share of shots (not rack focus) in which a stranger walks across the "
                                          "view at about the subject's distance, 0-1."),
    readable_tracking: bool = typer.Option(True, "--readable-tracking/--any-tracking",
                                           help="Keep only tracking shots whose picture visibly travels, none at "
                                                "extreme close-up (the default); --any-tracking: as before "
                                                "December 2026's tenth session."),
    as_json: bool = JsonOption,
) -> None:
    """Render simulated clips with exact framing, angle and movement labels (resumes if interrupted)."""
    from cinestudio.camerasim.dataset import simulate_dataset

    with progress_bar(True, "simulating") as bar:
        summary = simulate_dataset(out, per_class, seed, size=size, frames=frames, fps=fps, scheme=scheme,
                                   progress=bar, crf=crf, subject_walks=subject_walks,
                                   passers_by=passers_by, readable_tracking=readable_tracking)
    if as_json:
        emit_json(summary)
        return
    typer.echo(f"{summary['clips']} clips in {summary['out']}\nlabels: {summary['labels']}")
    for axis in AXES:
        counts = summary["per_class_counts"][axis]
        typer.echo(f"  {axis}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
