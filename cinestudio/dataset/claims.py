"""Claims on files being imported, so that concurrent importers share the work.

Two processes importing the same folder would otherwise both decode every file and one of them
would throw its work away. Before analysing a file, an importer creates
``WORKSPACE/media/.claims/<sha256>.claim`` (exclusively: ``O_CREAT | O_EXCL``) holding its pid and
host, keeps its modification time fresh while it works (`Claim.touch`), and removes it when the
file is in. Another importer that finds a live claim moves on to other files and comes back to
that one at the end, when it is usually in already.

Claims are an optimisation, never a lock that correctness depends on: the database transaction
re-checks for duplicates in any case. A claim is stale (taken over) when its process is gone
(same host) or it has not been touched for `STALE_S` seconds (a killed process, a reused pid,
another host).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

STALE_S = 60.0
TOUCH_EVERY_S = 2.0


class Claim:
    """This process's claim on one file's content; `release()` when done (idempotent)."""

    def __init__(self, path: Path):
        self.path = path
        self._touched = time.monotonic()

    def touch(self) -> None:
        now = time.monotonic()
        if now - self._touched >= TOUCH_EVERY_S:
            self._touched = now
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Claims:
    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def _path(self, sha: str) -> Path:
        return self.folder / f"{sha}.claim"

    def held_by_other(self, sha: str) -> bool:
        """True while another live importer holds a fresh claim on this content."""
        path = self._path(sha)
        try:
            text = path.read_text(encoding="utf-8")
            age = time.time() - path.stat().st_mtime
        except (OSError, UnicodeDecodeError):
            return False
        pid_s, _, host = text.strip().partition("@")
        try:
            pid = int(pid_s)
        except ValueError:
            return False
        if age > STALE_S:
            return False
        if host == socket.gethostname():
            return pid != os.getpid() and _alive(pid)
        return True

    def claim(self, sha: str) -> Claim | None:
        """Claim the content `sha`; None while another live importer holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(sha)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self.held_by_other(sha):
                    return None
                with contextlib.suppress(OSError):   # stale: take it over
                    path.unlink()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}@{socket.gethostname()}\n")
            return Claim(path)
        return None
