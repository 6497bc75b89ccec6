"""``cinestudio storyboard …``: boards from the command line (files or the workspace).

    cinestudio storyboard render BOARD.cinestudio-board.json --backend previz --out OUT [--json]
    cinestudio -w WS storyboard new "Chase" --fps 12
    cinestudio -w WS storyboard add-shot "Chase" --framing long_shot --movement pan_right --seconds 2
    cinestudio -w WS storyboard list | show NAME | validate NAME | render NAME --out OUT
    cinestudio -w WS storyboard import FILE.json | export NAME FILE.json | delete NAME

BOARD arguments name a board file when that file exists (or ends in .json), else a board of the
workspace (by name or id). Rendering a workspace board records each shot's render in its history
(as the Storyboard tab does) and uses the workspace's render cache; rendering a file caches in
``OUT/cache`` (``--cache`` to share one between runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cinestudio.cli.app import STATE, JsonOption, app, emit_json, progress_bar, user_errors
from cinestudio.errors import UserInputError
from cinestudio.workspace import DB_FILENAME, default_workspace_dir

storyboard_app = typer.Typer(help="Storyboards: sequences of shots in cinematic language; render, export.",
                             no_args_is_help=True)
app.add_typer(storyboard_app, name="storyboard")

FORMATS_HELP = "Outputs: clips, mp4, gif, contact, json (repeatable; default all)."


def _root() -> Path:
    return Path(STATE.workspace).expanduser() if STATE.workspace else default_workspace_dir()


def _open(create: bool = False) -> Any:
    from cinestudio.store import open_workspace

    root = _root()
    if not create and not (root / DB_FILENAME).is_file():
        raise UserInputError(root, "not a CineStudio workspace (create one with "
                                   "`cinestudio --workspace DIR workspace init`)")
    return open_workspace(root)


def _is_file_ref(ref: str) -> bool:
    return Path(ref).expanduser().exists() or ref.endswith(".json")


def _shot_line(i: int, shot, fps: float) -> str:
    moves = " → ".join(shot.movements)
    title = f"{shot.title}  " if shot.title else ""
    return (f"{i + 1:>3}. {title}[{shot.framing} · {shot.angle} · {moves}]  {shot.duration_text(fps)}"
            f"  seed {shot.seed}" + (f"  ref {shot.reference_image}" if shot.reference_image else ""))


def _load(ref: str):
    """(board, store or None) for a file or a workspace board."""
    from cinestudio.storyboard.model import load_board_file
    from cinestudio.storyboard.service import load_board

    if _is_file_ref(ref):
        return load_board_file(Path(ref).expanduser()), None
    store = _open()
    return load_board(store, ref), store


# ---------------------------------------------------------------------------------------------

@storyboard_app.command("render")
@user_errors
def render_cmd(
    board_ref: str = typer.Argument(..., metavar="BOARD", help="A .cinestudio-board.json file, or a workspace board."),
    backend: str = typer.Option("previz", "--backend", "-b", help="previz (CPU, seconds) or diffusion (jobs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    formats: list[str] = typer.Option(None, "--format", "-f", help=FORMATS_HELP),
    cache: Path | None = typer.Option(None, "--cache", help="Render cache folder (file boards; default OUT/cache)."),
    cameraclip: str | None = typer.Option(None, "--cameraclip", help="CameraCLIP run to score the shots with "
                                          "(default: the board's diffusion.cameraclip, else the workspace's)."),
    device: str = typer.Option("auto", "--device", help="Diffusion / CameraCLIP device: auto, cpu, cuda."),
    motion_check: bool = typer.Option(True, "--motion-check/--no-motion-check",
                                      help="Measure each shot's motion by optical flow (sidecar)."),
    as_json: bool = JsonOption,
) -> None:
    """Render a board: one clip per shot, sequence.mp4 + sequence.gif, contact-sheet.png, render.json."""
    from cinestudio.storyboard.cache import RenderCache
    from cinestudio.storyboard.export import FORMATS
    from cinestudio.storyboard.model import BACKENDS
    from cinestudio.storyboard.render import get_backend, render_board

    if backend not in BACKENDS:
        raise UserInputError(backend, f"unknown backend (expected {' or '.join(BACKENDS)})")
    formats = list(formats or FORMATS)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserInputError(bad[0], f"unknown format (expected {', '.join(FORMATS)})")
    board, store = _load(board_ref)
    job_store = None
    try:
        scorer = _scorer(board, store, cameraclip, device)
        options: dict[str, Any] = {}
        if backend == "diffusion":
            # diffusion renders run as jobs of a workspace (a file board uses --workspace's)
            job_store = store if store is not None else _open(create=True)
            options = {"store": job_store, "device": device}
        impl = get_backend(backend, **options)
        with progress_bar(not as_json, f"rendering ({backend})") as bar:
            if store is None:
                result = render_board(board, backend, out, cache=RenderCache(cache) if cache else None,
                                      backend_impl=impl, formats=formats, scorer=scorer,
                                      check_motion=motion_check, progress=bar)
            else:
                from cinestudio.storyboard.service import export_active, render_shots

                renders = render_shots(store, board, backend, backend_impl=impl,
                             progress=lambda d, t, m="": bar(int(80 * d / t) if t else 0, 100, m))
                result = export_active(store, board, out, formats=formats, scorer=scorer,
                                       check_motion=motion_check, fresh=renders.fresh,
                                       progress=lambda d, t, m="": bar(80 + (int(20 * d / t) if t else 0), 100, m))
    finally:
        for opened in {id(x): x for x in (store, job_store) if x is not None}.values():
            opened.close()
    if as_json:
        emit_json({"out": str(out.resolve()), **result})
        return
    for s in result["shots"]:
        verdict = {True: "motion ok", False: "MOTION DIFFERS", None: ""}[s.get("motion_agrees")]
        measured = ",".join((s.get("measured_motion") or {}).get("dominant", []))
        typer.echo(f"{s['index'] + 1:>3}. {s['title'] or s['id']:<20} {s['frames']:>4} f  "
                   f"{'cached ' if s['cached'] else 'rendered'}  {' → '.join(s['movements'])}"
                   + (f"  (measured {measured}: {verdict})" if measured else ""))
    outs = result["outputs"]
    typer.echo(f"{result['total_frames']} frames, {result['seconds']:.1f} s → {out}")
    for key in ("mp4", "gif", "contact_sheet", "sidecar"):
        if key in outs:
            typer.echo(f"  {key}: {out / outs[key]}")


def _scorer(board, store, cameraclip: str | None, device: str):
    run = cameraclip or board.diffusion.get("cameraclip")
    if not run and store is not None:
        from cinestudio.store.settings import CAMERACLIP_RUN

        run = store.settings.get(CAMERACLIP_RUN)
        if run and not Path(str(run)).is_absolute():
            run = str(store.paths.root / str(run))
    if not run:
        return None
    path = board.resolve_path(str(run)) if not Path(str(run)).is_absolute() and store is None else Path(str(run))
    from cinestudio.storyboard.score import cameraclip_scorer

    return cameraclip_scorer(path, device)


@storyboard_app.command("validate")
@user_errors
def validate_cmd(
    board_ref: str = typer.Argument(..., metavar="BOARD"),
    backend: str | None = typer.Option(None, "--backend", "-b", help="Also check what this backend needs."),
    as_json: bool = JsonOption,
) -> None:
    """Check a board: unknown class keys, zero durations, missing reference images… (exit 1 if any error)."""
    from cinestudio.storyboard.validate import errors_only, validate_board

    board, store = _load(board_ref)
    if store is not None:
        store.close()
    issues = validate_board(board, backend=backend)
    if as_json:
        emit_json({"board": board.name, "ok": not errors_only(issues), "issues": [i.to_dict() for i in issues]})
    else:
        for i in issues:
            typer.echo(f"{i.severity}: {i.message}", err=i.severity == "error")
        if not issues:
            typer.echo(f"{board.name}: {len(board.shots)} shots, {board.total_frames()} frames — ok")
    if errors_only(issues):
        raise typer.Exit(1)


@storyboard_app.command("new")
@user_errors
def new_cmd(
    name: str = typer.Argument(...),
    fps: float = typer.Option(12.0, "--fps"),
    width: int = typer.Option(320, "--width"),
    height: int = typer.Option(180, "--height"),
    from_file: Path | None = typer.Option(None, "--from", help="Start from a board file's shots."),
    as_json: bool = JsonOption,
) -> None:
    """Create an empty board in the workspace (or a copy of a board file)."""
    from cinestudio.storyboard.service import create_board, import_board

    with _open(create=True) as store:
        if from_file is not None:
            board = import_board(store, from_file, name=name)
        else:
            board = create_board(store, name, fps=fps, width=width, height=height)
    if as_json:
        emit_json({"id": board.id, "name": board.name, "shots": len(board.shots)})
    else:
        typer.echo(f"storyboard {board.id}: {board.name} ({len(board.shots)} shots)")


@storyboard_app.command("add-shot")
@user_errors
def add_shot_cmd(
    board_ref: str = typer.Argument(..., metavar="BOARD"),
    framing: str = typer.Option("medium_shot", "--framing"),
    angle: str = typer.Option("eye_level", "--angle"),
    movement: list[str] = typer.Option(None, "--movement", "-m", help="Movement key (repeat for a sequence)."),
    seconds: float | None = typer.Option(None, "--seconds"),
    frames: int | None = typer.Option(None, "--frames"),
    title: str = typer.Option("", "--title"),
    prompt: str = typer.Option("", "--prompt"),
    seed: int | None = typer.Option(None, "--seed", help="Default: the shot's number."),
    reference_image: Path | None = typer.Option(None, "--reference-image"),
    position: int | None = typer.Option(None, "--position", help="1-based place (default: at the end)."),
    as_json: bool = JsonOption,
) -> None:
    """Add a shot to a workspace board (checked against the taxonomy)."""
    from cinestudio.storyboard.model import Shot
    from cinestudio.storyboard.service import copy_reference_image, load_board, save_board
    from cinestudio.storyboard.validate import validate_shot
    from cinestudio.taxonomy import load_taxonomy

    if seconds is not None and frames is not None:
        raise UserInputError("--seconds/--frames", "give one of them")
    with _open() as store:
        board = load_board(store, board_ref)
        shot = Shot(title=title, prompt=prompt, framing=framing, angle=angle, movements=list(movement or ["static"]),
                    duration=float(frames if frames is not None else (seconds if seconds is not None else 2.0)),
                    duration_unit="frames" if frames is not None else "seconds",
                    seed=seed if seed is not None else len(board.shots) + 1)
        if reference_image is not None:
            shot.reference_image = copy_reference_image(store, reference_image)
        issues = [i for i in validate_shot(len(board.shots), shot, board, load_taxonomy(board.scheme))
                  if i.severity == "error"]
        if issues:
            raise UserInputError(board.name, "; ".join(i.message for i in issues))
        at = len(board.shots) if position is None else max(0, min(len(board.shots), position - 1))
        board.shots.insert(at, shot)
        save_board(store, board)
    if as_json:
        emit_json({"board": board.name, "position": at + 1, "id": shot.id})
    else:
        typer.echo(_shot_line(at, shot, board.fps))


@storyboard_app.command("list")
@user_errors
def list_cmd(as_json: bool = JsonOption) -> None:
    """The workspace's boards."""
    from cinestudio.storyboard.service import list_boards

    with _open() as store:
        boards = list_boards(store)
    if as_json:
        emit_json(boards)
        return
    if not boards:
        typer.echo("no storyboards yet (cinestudio storyboard new NAME)")
    for b in boards:
        typer.echo(f"{b['id']:>4}  {b['name']:<32} {b['shots']:>3} shots  {b['fps']:g} fps  "
                   f"{b['size'][0]}x{b['size'][1]}")


@storyboard_app.command("show")
@user_errors
def show_cmd(board_ref: str = typer.Argument(..., metavar="BOARD"), as_json: bool = JsonOption) -> None:
    """A board's shots, durations, problems and (workspace boards) active renders."""
    from cinestudio.storyboard.model import board_to_dict
    from cinestudio.storyboard.validate import validate_board

    board, store = _load(board_ref)
    active = {}
    if store is not None:
        with store:
            active = {uid: r for uid, r in store.storyboards.active_renders(board.id).items()}
    issues = validate_board(board)
    if as_json:
        data = board_to_dict(board)
        data["id"] = board.id
        data["total_frames"] = board.total_frames()
        data["issues"] = [i.to_dict() for i in issues]
        for s, d in zip(board.shots, data["shots"]):
            r = active.get(s.id)
            d["frames_at_fps"] = s.frames(board.fps)
            d["active_render"] = None if r is None else {"id": r.id, "backend": r.backend, "clip": r.clip_path,
                                                         "content_hash": r.content_hash}
        emit_json(data)
        return
    total = board.total_frames()
    typer.echo(f"{board.name}: {len(board.shots)} shots, {total} frames ({total / board.fps:.1f} s at "
               f"{board.fps:g} fps), {board.width}x{board.height}, scheme {board.scheme}")
    for i, s in enumerate(board.shots):
        r = active.get(s.id)
        typer.echo(_shot_line(i, s, board.fps) + (f"  [render: {r.backend}]" if r else ""))
    for i in issues:
        typer.echo(f"{i.severity}: {i.message}")


@storyboard_app.command("import")
@user_errors
def import_cmd(
    path: Path = typer.Argument(..., help="A .cinestudio-board.json file."),
    name: str | None = typer.Option(None, "--name", help="Store under this name (default: the file's)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a board of the same name."),
    as_json: bool = JsonOption,
) -> None:
    """Bring a board file into the workspace (reference images are copied in)."""
    from cinestudio.storyboard.service import import_board

    with _open(create=True) as store:
        board = import_board(store, path, name=name, replace=replace)
    if as_json:
        emit_json({"id": board.id, "name": board.name, "shots": len(board.shots)})
    else:
        typer.echo(f"imported {board.name!r} ({len(board.shots)} shots) as storyboard {board.id}")


@storyboard_app.command("export")
@user_errors
def export_cmd(
    board_ref: str = typer.Argument(..., metavar="BOARD"),
    path: Path = typer.Argument(..., help="Target .cinestudio-board.json (a folder: NAME.cinestudio-board.json in it)."),
    as_json: bool = JsonOption,
) -> None:
    """Write a workspace board as a .cinestudio-board.json file."""
    from cinestudio.storyboard.model import default_file_name
    from cinestudio.storyboard.service import export_board_file, load_board

    with _open() as store:
        board = load_board(store, board_ref)
        target = path / default_file_name(board) if path.is_dir() else path
        export_board_file(store, board, target)
    if as_json:
        emit_json({"name": board.name, "path": str(target)})
    else:
        typer.echo(f"{board.name} → {target}")


@storyboard_app.command("delete")
@user_errors
def delete_cmd(board_ref: str = typer.Argument(..., metavar="BOARD")) -> None:
    """Delete a workspace board (its cached renders stay in the render cache)."""
    from cinestudio.storyboard.service import delete_board, find_board

    with _open() as store:
        rec = find_board(store, board_ref)
        delete_board(store, rec.id)
    typer.echo(f"deleted {rec.name!r}")
