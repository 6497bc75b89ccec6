"""``cinestudio probe``: what a video file really holds."""

from __future__ import annotations

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, user_errors
from cinestudio.media.probe import probe as probe_video


@app.command()
@user_errors
def probe(
    file: str = typer.Argument(..., help="A video file."),
    as_json: bool = JsonOption,
) -> None:
    """Frames that really decode, frame rate, size, duration and codec of a video file."""
    info = probe_video(file)
    if as_json:
        emit_json(info.to_dict())
        return
    claim = ""
    if info.header_frames and info.header_frames != info.frames:
        claim = f" (the header claims {info.header_frames})"
    typer.echo(f"{info.path}\n"
               f"  frames    {info.frames}{claim}\n"
               f"  fps       {info.fps:g}\n"
               f"  size      {info.width}x{info.height}\n"
               f"  duration  {info.duration:.3f} s\n"
               f"  codec     {info.codec} ({info.container.split(',')[0]} container)")
