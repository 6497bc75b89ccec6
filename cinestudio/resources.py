"""Where the data files shipped with CineStudio live (`resources/` beside the package)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The resources folder; CINESTUDIO_RESOURCES overrides it (for packaged installs)."""
    override = os.environ.get("CINESTUDIO_RESOURCES")
    return Path(override) if override else PROJECT_ROOT / "resources"
