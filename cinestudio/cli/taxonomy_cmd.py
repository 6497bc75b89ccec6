"""``cinestudio taxonomy``: the axes and classes of a scheme."""

from __future__ import annotations

import typer

from cinestudio.cli.app import JsonOption, app, emit_json, user_errors
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, load_taxonomy


@app.command()
@user_errors
def taxonomy(
    scheme: str = typer.Option(DEFAULT_SCHEME, "--scheme", help="Scheme name or a JSON file."),
    key: str | None = typer.Option(None, "--key", help="Show only this class."),
    as_json: bool = JsonOption,
) -> None:
    """The cinematic taxonomy: framing, angle and movement classes with definitions and prompts."""
    tax = load_taxonomy(scheme)
    if key is not None:
        cls = tax.get(tax.axis_of(key), key)
        if as_json:
            emit_json({"scheme": tax.scheme, "axis": cls.axis, **cls.to_dict()})
        else:
            typer.echo(f"{cls.key} ({cls.axis}): {cls.label}\n  {cls.definition}")
            for p in cls.prompts:
                typer.echo(f"  - {p}")
        return
    if as_json:
        emit_json(tax.to_dict())
        return
    typer.echo(f"scheme {tax.scheme}: {len(tax)} classes")
    for axis in AXES:
        typer.echo(f"\n{axis} ({len(tax.axes[axis])})")
        for cls in tax.axes[axis]:
            typer.echo(f"  {cls.key:<20} {cls.definition}")
