"""``cinestudio shots`` (hard cuts) and ``cinestudio motion`` (camera movement) of a video file."""

from __future__ import annotations

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, progress_bar, user_errors
from cinestudio.errors import UserInputError


def _timecode(frame: int, fps: float) -> str:
    if not fps:
        return f"#{frame}"
    s = frame / fps
    return f"{int(s // 60):02d}:{s % 60:06.3f}"


@app.command()
@user_errors
def shots(
    file: str = typer.Argument(..., help="A video file."),
    as_json: bool = JsonOption,
) -> None:
    """Hard cuts of a video: the first frame of each new shot, and the shots [start, end)."""
    from cinestudio.media.shots import detect_shots

    with progress_bar(not as_json, "shots") as bar:
        result = detect_shots(file, progress=bar)
    if as_json:
        emit_json({"cuts": result.cuts, "shots": result.shots, "frames": result.frames,
                   "fps": result.fps})
        return
    typer.echo(f"{file}: {len(result.shots)} shot{'s' if len(result.shots) != 1 else ''}, "
               f"{len(result.cuts)} cut{'s' if len(result.cuts) != 1 else ''}, {result.frames} frames")
    for k, s in enumerate(result.shots, 1):
        typer.echo(f"  shot {k:3d}  frames {s['start']:6d}-{s['end'] - 1:<6d} "
                   f"{_timecode(s['start'], result.fps)} - {_timecode(s['end'], result.fps)}"
                   f"  ({s['end'] - s['start']} frames)")


@app.command()
@user_errors
def motion(
    file: str = typer.Argument(..., help="A video file."),
    start: int = typer.Option(0, "--start", help="First frame (0-based)."),
    end: int | None = typer.Option(None, "--end", help="End frame, exclusive (default: the last)."),
    scheme: str | None = typer.Option(None, "--scheme",
                                      help="Taxonomy scheme whose movement classes to use "
                                           "(default: cinematic2k classes plus roll)."),
    as_json: bool = JsonOption,
) -> None:
    """Camera movement (pan, tilt, zoom, dolly, roll or static) per segment, with magnitude."""
    from cinestudio.media.motion import estimate_motion

    if start < 0:
        raise UserInputError("--start", f"must be 0 or more, got {start}")
    if end is not None and end <= start:
        raise UserInputError("--end", f"must be greater than --start ({start}), got {end}")
    with progress_bar(not as_json, "motion") as bar:
        report = estimate_motion(file, start=start, end=end, scheme=scheme, progress=bar)
    if as_json:
        emit_json({"start": report.start, "end": report.end, "fps": report.fps,
                   "dominant": report.dominant, "segments": report.segments})
        return
    typer.echo(f"{file} frames {report.start}-{report.end - 1}: {' + '.join(report.dominant)}")
    for s in report.segments:
        comps = ", ".join(s["components"]) or "static"
        typer.echo(f"  frames {s['start']:6d}-{s['end'] - 1:<6d} {comps:<28s} "
                   f"magnitude {s['magnitude'] * 100:5.2f} %/frame  confidence {s['confidence']:.2f}")
