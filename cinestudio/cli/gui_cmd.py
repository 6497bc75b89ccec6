"""``cinestudio gui``: open the main window (or render it to a PNG with --screenshot)."""

from __future__ import annotations

from pathlib import Path

import typer

from cinestudio.cli.app import STATE, app, user_errors
from cinestudio.workspace import resolve_workspace


@app.command()
@user_errors
def gui(
    screenshot: Path | None = typer.Option(None, "--screenshot", help="Render the window offscreen to this PNG and exit."),
    tab: str | None = typer.Option(None, "--tab", help="Tab to show: annotate, train or storyboard."),
) -> None:
    """Open the CineStudio window on the workspace."""
    workspace = resolve_workspace(STATE.workspace).root
    if screenshot is not None:
        from cinestudio.gui.app import render_screenshot

        render_screenshot(workspace, screenshot, tab=tab)
        typer.echo(f"saved {screenshot}", err=True)
        return
    from cinestudio.gui.app import run_gui

    raise typer.Exit(run_gui(workspace))
