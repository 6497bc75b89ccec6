"""The typer application, global options, and the conventions every command follows.

- ``--json`` puts machine output on stdout and nothing else there; people get text and progress
  bars (on stderr, so they never mix with data).
- Bad input is one line ``error: SUBJECT: reason`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer

from cinestudio.errors import UserInputError
from cinestudio.progress import Cancelled, ProgressFn

EXIT_USAGE = 2

app = typer.Typer(
    name="cinestudio",
    help="CineStudio: cinematic-language datasets, CameraCLIP, CameraDiff and storyboards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

JsonOption = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")


class CliState:
    workspace: Path | None = None


STATE = CliState()


@app.callback()
def _global_options(
    workspace: Path | None = typer.Option(
        None, "--workspace", "-w", envvar="CINESTUDIO_WORKSPACE",
        help="Workspace folder (database + media cache). Default: a per-user data folder."),
) -> None:
    STATE.workspace = workspace


def fail(subject: str, reason: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"error: {subject}: {reason}", err=True)
    return typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn a `UserInputError` into one ``error:`` line and exit 2; Ctrl-C/cancel into exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserInputError as exc:
            raise fail(exc.subject, exc.reason) from None
        except (KeyboardInterrupt, Cancelled):
            typer.echo("error: cancelled", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def progress_bar(enabled: bool, description: str = "") -> Iterator[ProgressFn]:
    """A `progress(done, total, message)` callback drawing a bar on stderr (silent if disabled)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total, message="": None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, message: str = "") -> None:
            bar.update(task, completed=done, total=total or None,
                       description=f"{description} {message}".strip())

        yield update
