"""File-system helpers: atomic writes (temp file in the same folder, then rename)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success rename it onto `target`.

    On any error the temporary file is removed and `target` is left as it was, so a full disk
    or a killed process never leaves a half-written output under the real name. The temporary
    name keeps the target's suffix so encoders that pick a format by extension still work.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix or ".tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private (0600); outputs get the permissions a plain open() gives.
    os.chmod(tmp, 0o666 & ~_current_umask())
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def write_json_atomic(target: str | os.PathLike[str], data: object) -> None:
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def has_content(folder: str | os.PathLike[str], ignore: Iterable[str] = ()) -> bool:
    """Whether `folder` exists and holds anything but the entries named in `ignore`."""
    folder = Path(folder)
    skip = set(ignore)
    return folder.is_dir() and any(p.name not in skip for p in folder.iterdir())


def newest_first(folder: str | os.PathLike[str], pattern: str) -> list[Path]:
    """The files in `folder` matching `pattern`, most recently modified first; never the temporary
    files of a write in flight (`atomic_path` names them with a leading dot). A missing or unreadable
    folder has none, and a file that goes away while listed is left out."""
    entries = []
    with contextlib.suppress(OSError):
        for path in Path(folder).glob(pattern):
            if path.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                entries.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(entries, key=lambda e: e[0], reverse=True)]


def prune_oldest(folder: str | os.PathLike[str], pattern: str, keep: int) -> list[Path]:
    """Delete all but the `keep` most recently modified files of `folder` matching `pattern`;
    return those deleted (one that cannot be deleted stays, silently: pruning is housekeeping)."""
    removed = []
    for path in newest_first(folder, pattern)[keep:]:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
