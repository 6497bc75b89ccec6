"""``cinestudio workspace init|info``: create a workspace, and see what one holds."""

from __future__ import annotations

from pathlib import Path

import typer

from cinestudio.cli.app import STATE, JsonOption, app, emit_json, user_errors
from cinestudio.errors import UserInputError
from cinestudio.workspace import DB_FILENAME, default_workspace_dir

workspace_app = typer.Typer(help="Create a workspace or show what it holds.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")


def _root() -> Path:
    return Path(STATE.workspace).expanduser() if STATE.workspace else default_workspace_dir()


@workspace_app.command("init")
@user_errors
def init(as_json: bool = JsonOption) -> None:
    """Create the workspace (folders and database, migrated to the newest schema)."""
    from cinestudio.store import open_workspace

    root = _root()
    existed = (root / DB_FILENAME).exists()
    with open_workspace(root) as store:
        info = store.info()
    info["created"] = not existed
    if as_json:
        emit_json(info)
    else:
        verb = "already a workspace" if existed else "created workspace"
        typer.echo(f"{verb}: {info['workspace']} (schema {info['schema_revision']})")


@workspace_app.command("info")
@user_errors
def info(as_json: bool = JsonOption) -> None:
    """Where the workspace is, its schema revision, and counts of what it holds."""
    from cinestudio.store import open_workspace

    root = _root()
    if not (root / DB_FILENAME).is_file():
        raise UserInputError(root, "not a CineStudio workspace (create one with "
                                   "`cinestudio --workspace DIR workspace init`)")
    with open_workspace(root) as store:
        data = store.info()
    if as_json:
        emit_json(data)
        return
    counts = data["counts"]
    clips = counts["clips"]
    jobs = {k: v for k, v in counts["jobs"].items() if v}
    typer.echo(f"workspace  {data['workspace']}")
    typer.echo(f"database   {data['database']}")
    typer.echo(f"schema     {data['schema_revision']} (newest {data['schema_head']})")
    typer.echo(f"sources    {counts['sources']}")
    typer.echo(f"clips      {clips['total']}: "
               + ", ".join(f"{clips[s]} {s}" for s in ("collected", "annotated", "verified",
                                                      "rejected")))
    typer.echo(f"labels     {counts['labels']} (+ {counts['prelabels']} pre-labels), "
               f"{counts['reviews']} reviews")
    typer.echo("jobs       " + (", ".join(f"{v} {k}" for k, v in jobs.items()) or "none"))
    for key, value in data["settings"].items():
        typer.echo(f"setting    {key} = {value!r}")
