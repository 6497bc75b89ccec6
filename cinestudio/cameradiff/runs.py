"""The LoRAs of a workspace: every ``lora-train`` run folder under its ``runs/`` (one level, or two
for runs grouped in a sub-folder), with type, base, status, metrics and previews.

Light on purpose: it reads JSON and the safetensors header (8-byte length + JSON) itself, so
listing imports neither torch nor safetensors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cinestudio.cameradiff.train_lora import CONFIG_NAME, KIND, LAST_CHECKPOINT, METRICS_NAME, PREVIEWS


def header_metadata(path: Path) -> dict[str, Any]:
    """The ``cinestudio`` metadata of a LoRA file, read from the safetensors header; {} if unreadable."""
    import struct

    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n <= 0 or n > 100_000_000:
                return {}
            header = json.loads(fh.read(n))
        return json.loads((header.get("__metadata__") or {}).get("cinestudio", "{}"))
    except (OSError, ValueError, struct.error, AttributeError):
        return {}


def _last_step(run: Path) -> int | None:
    path = run / METRICS_NAME
    if not path.is_file():
        return None
    step = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            step = max(step or 0, int(json.loads(line).get("step", 0)))
        except (ValueError, AttributeError):
            continue
    return step


def describe_run(run: Path, root: Path | None = None) -> dict[str, Any] | None:
    """One LoRA run as a dict, or None if `run` is not a LoRA run."""
    try:
        info = json.loads((run / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("kind") != KIND:
        return None
    cfg = info.get("config", {})
    lora_file = run / str(info.get("lora_file") or "")
    has_file = bool(info.get("lora_file")) and lora_file.is_file()
    meta: dict[str, Any] = header_metadata(lora_file) if has_file else {}
    if has_file and not meta:
        has_file = False  # damaged or foreign: listed, without a usable file
    status = info.get("status", "unknown")
    if status == "running" and not has_file:
        status = "running or interrupted"
    previews = sorted(str(p.relative_to(run)) for p in (run / PREVIEWS).glob("*.gif")) if (run / PREVIEWS).is_dir() else []

    def rel(p: Path) -> str:
        if root is None:
            return str(p)
        try:
            return str(p.relative_to(root))
        except ValueError:
            return str(p)

    return {
        "run": rel(run), "type": cfg.get("type"), "axis": info.get("axis"), "target": info.get("target"),
        "base": cfg.get("base"), "status": status, "lora": rel(lora_file) if has_file else None,
        "steps": meta.get("steps", info.get("steps_done")), "planned_steps": cfg.get("steps"),
        "last_logged_step": _last_step(run), "checkpoint": (run / LAST_CHECKPOINT).is_file(),
        "rank": cfg.get("rank"), "resolution": info.get("resolution"), "frames": cfg.get("frames"),
        "metrics": meta.get("metrics", info.get("metrics")), "previews": previews,
        "latest_preview": previews[-1] if previews else None,
    }


def list_loras(runs_dir: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every LoRA run under `runs_dir`, sorted by type then run; paths relative to `root` if given."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = []
    candidates = [p for p in runs_dir.iterdir() if p.is_dir()]
    candidates += [q for p in candidates if not (p / CONFIG_NAME).is_file() for q in p.iterdir() if q.is_dir()]
    for run in candidates:
        entry = describe_run(run, Path(root) if root else None)
        if entry is not None:
            found.append(entry)
    return sorted(found, key=lambda e: (str(e["type"]), e["run"]))
