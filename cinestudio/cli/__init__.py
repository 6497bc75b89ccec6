"""The ``cinestudio`` command line: one typer app; each module adds the commands of one concern."""

from __future__ import annotations

from cinestudio.cli import clip_cmd  # noqa: F401
from cinestudio.cli import dataset_cmd  # noqa: F401
from cinestudio.cli import diff_cmd  # noqa: F401
from cinestudio.cli import gui_cmd  # noqa: F401  (registers commands)
from cinestudio.cli import jobs_cmd  # noqa: F401
from cinestudio.cli import lora_cmd  # noqa: F401
from cinestudio.cli import media_cmd  # noqa: F401
from cinestudio.cli import shots_cmd  # noqa: F401
from cinestudio.cli import simulate_cmd  # noqa: F401
from cinestudio.cli import storyboard_cmd  # noqa: F401
from cinestudio.cli import taxonomy_cmd  # noqa: F401
from cinestudio.cli import workspace_cmd  # noqa: F401
from cinestudio.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
