"""The ``clip-train`` job kind: train CameraCLIP into the job's run folder (spec and validation).

Light on purpose (no torch, no model code): the GUI validates its form with it. The worker side,
which imports `cinestudio.cameraclip`, is `cinestudio.jobs.clip_train_run`.

Configuration (JSON; defaults filled in by `validate_config`):

``data``        a simulator set or export folder (``labels.jsonl`` / ``manifest.jsonl``) or a
                manifest file — relative to the workspace, or absolute — or ``workspace:annotated``
                / ``workspace:verified``: the workspace's clips at that stage, exported into the
                run folder when the job starts
``model``       open_clip architecture (default ``cameraclip-tiny-rn``, trained from scratch)
``pretrained``  open_clip tag or weights file (null: from scratch)
``pooling``     ``motion`` (default), ``temporal`` or ``mean``
``epochs``, ``batch_size``, ``lr``, ``seed``, ``num_frames``, ``val_fraction``
``warmup_steps``, ``log_every``  default to values that suit the run's length
``checkpoint_every``, ``max_minutes``, ``evaluate`` (evaluate on the validation clips at the end)
and the advanced `TrainConfig` options listed in ``ADVANCED``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.jobs.kinds import JobKind, ValidationContext, register
from cinestudio.resources import resources_dir
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, load_taxonomy

KIND = "clip-train"
# Mirrors of cameraclip constants (this module must not import cameraclip; a test keeps them equal).
POOLINGS = ("motion", "temporal", "mean")
DEFAULT_MODEL = "cameraclip-tiny-rn"
MANIFEST_NAMES = ("labels.jsonl", "manifest.jsonl")
VAL_SPLITS = ("val", "valid", "validation", "test")
WORKSPACE_PREFIX = "workspace:"
WORKSPACE_STAGES = ("annotated", "verified")
MIN_CLIPS = 4

# As `TrainConfig`'s (a test keeps them equal), so a Train-tab run is the documented default run;
# except the time budget: a job shows its progress and can be cancelled and resumed instead.
DEFAULTS: dict[str, Any] = {
    "model": DEFAULT_MODEL, "pretrained": None, "pooling": "motion", "epochs": 16, "batch_size": 32,
    "lr": 1e-3, "seed": 0, "num_frames": 8, "val_fraction": 0.1, "checkpoint_every": 100,
    "max_minutes": None, "evaluate": True,
}
# Options passed through to TrainConfig when given (name -> type).
ADVANCED: dict[str, type] = {
    "recipe": str, "weight_decay": float, "warmup_steps": int, "log_every": int, "caption_weight": float,
    "movement_prior": float, "scale_expert_clips": int, "scale_expert_epochs": int,
    "track_expert_clips": int, "track_expert_epochs": int, "movement_cnn_epochs": int,
    "reuse_expert": bool,
    "flip": bool, "reverse": bool, "jitter": bool, "shake": bool, "scheme": str,
}


def local_models() -> list[str]:
    """CameraCLIP's own architectures (shipped configs); any open_clip name is accepted too."""
    folder = resources_dir() / "cameraclip"
    names = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    return names or [DEFAULT_MODEL]


def resolve_data(data: str, workspace: Path) -> Path:
    path = Path(data).expanduser()
    return path if path.is_absolute() else workspace / path


def find_manifest(path: Path) -> Path:
    if path.is_dir():
        for name in MANIFEST_NAMES:
            if (path / name).is_file():
                return path / name
        raise UserInputError(path, f"no {' or '.join(MANIFEST_NAMES)} in this folder")
    if not path.exists():
        raise UserInputError(path, "no such file or folder")
    if path.suffix not in (".jsonl", ".json"):
        raise UserInputError(path, "not a JSON-lines manifest (.jsonl)")
    return path


def inspect_data(data: str, workspace: Path, scheme: str = DEFAULT_SCHEME, *, store: Any = None) -> dict[str, Any]:
    """What a training would read: ``{"source", "manifest", "clips", "val", "classes"}``.

    Raises UserInputError for anything training would trip on later: no manifest, unreadable lines,
    clip files that are missing, class keys the scheme does not know, too few clips.
    """
    if data.startswith(WORKSPACE_PREFIX):
        stage = data[len(WORKSPACE_PREFIX):]
        if stage not in WORKSPACE_STAGES:
            raise UserInputError(data, f"expected {' or '.join(WORKSPACE_PREFIX + s for s in WORKSPACE_STAGES)}")
        if store is None:
            raise UserInputError(data, "needs an open workspace")
        n = store.clips.count_by_stage().get(stage, 0)
        if n < MIN_CLIPS:
            raise UserInputError(data, f"the workspace has {n} {stage} clips; training needs at least {MIN_CLIPS}")
        return {"source": "workspace", "manifest": None, "clips": n, "val": None, "classes": {}}
    manifest = find_manifest(resolve_data(data, workspace))
    tax = load_taxonomy(scheme)
    known = {a: set(tax.keys(a)) for a in AXES}
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(manifest, "not a UTF-8 JSON-lines manifest") from None
    lines = text.splitlines()
    if manifest.suffix == ".json" and text.lstrip().startswith("["):
        try:
            lines = [json.dumps(e) for e in json.loads(text)]
        except ValueError as exc:
            raise UserInputError(manifest, f"not valid JSON: {exc}") from None
    n = val = 0
    missing: list[str] = []
    classes: dict[str, dict[str, int]] = {a: {} for a in AXES}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise UserInputError(f"{manifest}:{lineno}", f"not valid JSON: {exc}") from None
        if not isinstance(entry, dict) or not entry.get("file"):
            raise UserInputError(f"{manifest}:{lineno}", "each line needs an object with a 'file'")
        n += 1
        file = Path(entry["file"])
        if not (file if file.is_absolute() else manifest.parent / file).is_file():
            missing.append(str(entry["file"]))
        val += str(entry.get("split") or "").lower() in VAL_SPLITS
        for axis in AXES:
            value = entry.get(axis)
            if value in (None, "", "unknown", []):
                continue
            for key in (value,) if isinstance(value, str) else value:
                if key not in known[axis]:
                    raise UserInputError(f"{manifest}:{lineno}", f"unknown {axis} class {key!r} in scheme {tax.scheme!r}")
                classes[axis][key] = classes[axis].get(key, 0) + 1
    if missing:
        raise UserInputError(manifest, f"{len(missing)} of {n} clip files are missing (first: {missing[0]})")
    if n < MIN_CLIPS:
        raise UserInputError(manifest, f"{n} clips listed; training needs at least {MIN_CLIPS}")
    source = "simulator" if manifest.name == "labels.jsonl" else "export"
    return {"source": source, "manifest": str(manifest), "clips": n, "val": val or None, "classes": classes}


def _number(config: dict[str, Any], key: str, kind: type, lo: float | None = None, hi: float | None = None,
            *, allow_none: bool = False) -> None:
    value = config.get(key)
    if value is None and allow_none:
        return
    try:
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            value = int(value)
        else:
            value = float(value)
    except (TypeError, ValueError):
        raise UserInputError(key, f"must be {'an integer' if kind is int else 'a number'}, not {config.get(key)!r}") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi) or not math.isfinite(value):
        rng = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise UserInputError(key, f"must be {rng} (got {value:g})")
    config[key] = value


def validate_config(config: dict[str, Any], where: ValidationContext) -> dict[str, Any]:
    """A complete, checked ``clip-train`` configuration (raises UserInputError)."""
    unknown = set(config) - set(DEFAULTS) - set(ADVANCED) - {"data"}
    if unknown:
        raise UserInputError(", ".join(sorted(unknown)), "unknown clip-train option(s)")
    out = {**DEFAULTS, **{k: v for k, v in config.items() if v is not None or k in ("pretrained", "max_minutes")}}
    data = str(out.get("data") or "").strip()
    if not data:
        raise UserInputError("data", "choose the clips to train on (a simulator set, an export or a manifest)")
    if not data.startswith(WORKSPACE_PREFIX):
        path = resolve_data(data, where.workspace).resolve()
        try:
            data = str(path.relative_to(where.workspace.resolve()))
        except ValueError:
            data = str(path)
    out["data"] = data
    if not str(out["model"]).strip():
        raise UserInputError("model", "name an open_clip architecture")
    if out["pooling"] not in POOLINGS:
        raise UserInputError(str(out["pooling"]), f"unknown pooling (known: {', '.join(POOLINGS)})")
    _number(out, "epochs", int, 1, 100_000)
    _number(out, "batch_size", int, 2, 4096)
    _number(out, "lr", float, 1e-7, 1.0)
    _number(out, "seed", int, 0, 2**31 - 1)
    _number(out, "num_frames", int, 2, 64)
    _number(out, "val_fraction", float, 0.0, 0.9)
    _number(out, "checkpoint_every", int, 1, 10**9)
    _number(out, "max_minutes", float, 0.01, 10**7, allow_none=True)
    out["evaluate"] = bool(out["evaluate"])
    for key, typ in ADVANCED.items():
        if key in out and typ in (int, float):
            _number(out, key, typ, 0)
        elif key in out and not isinstance(out[key], typ):
            raise UserInputError(key, f"must be {typ.__name__}")
    info = inspect_data(data, where.workspace, out.get("scheme") or DEFAULT_SCHEME, store=where.store)
    # Defaults that depend on the run's length: a short run warms up and logs in proportion.
    n_train = info["clips"] - (info["val"] if info["val"] is not None else round(info["clips"] * out["val_fraction"]))
    steps = out["epochs"] * max(1, math.ceil(max(1, n_train) / out["batch_size"]))
    out.setdefault("warmup_steps", min(50, max(1, steps // 10)))
    out.setdefault("log_every", 1 if steps <= 300 else 10)
    return out


def describe(config: dict[str, Any]) -> str:
    return (f"{config.get('model', DEFAULT_MODEL)}/{config.get('pooling', 'motion')} on {config.get('data')}, "
            f"{config.get('epochs')} epochs × batch {config.get('batch_size')}, lr {config.get('lr')}")


CLIP_TRAIN = register(JobKind(
    name=KIND, title="CameraCLIP training", device_class="gpu",
    entry="cinestudio.jobs.clip_train_run:run", validate=validate_config, describe=describe))
