"""The ``lora-train`` and ``diff-train-base`` job kinds (spec and validation; no torch).

The worker side, which imports `cinestudio.cameradiff`, is `cinestudio.jobs.lora_train_run`.

``lora-train`` configuration (JSON; `cinestudio.cameradiff.train_lora.LoraTrainConfig` fills what
is not given):

``type``   a class key of the scheme (``pan_left``, ``close_up``, ``low_angle``, ...)
``data``   a simulator set or export folder (``labels.jsonl`` / ``manifest.jsonl``) or a manifest
           file, relative to the workspace or absolute
``base``   a diffusers pipeline folder (relative to the workspace or absolute) or a hub id
``rank``, ``alpha``, ``target`` (auto / motion / spatial / both), ``steps``, ``lr``,
``batch_size``, ``resolution``, ``frames``, ``seed``, ``prompt``, ``augment``, ``preview_every``,
``checkpoint_every``, ``max_minutes``, ... (`LORA_OPTIONS`)

``diff-train-base``: ``data`` and the `BaseTrainConfig` options in `BASE_OPTIONS`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.jobs.clip_train import inspect_data, resolve_data
from cinestudio.jobs.kinds import JobKind, ValidationContext, register
from cinestudio.taxonomy import DEFAULT_SCHEME, load_taxonomy

LORA_KIND = "lora-train"
BASE_KIND = "diff-train-base"
# Mirrors of cameradiff constants (this module must not import cameradiff; a test keeps them equal).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
TARGETS = ("auto", "motion", "spatial", "both")
LORA_OPTIONS: dict[str, type] = {
    "rank": int, "alpha": float, "target": str, "steps": int, "lr": float, "weight_decay": float,
    "warmup_steps": int, "batch_size": int, "resolution": int, "frames": int, "seed": int, "prompt": str,
    "caption_dropout": float, "augment": bool, "preview_every": int, "preview_steps": int,
    "preview_prompt": str, "preview_guidance": float, "checkpoint_every": int, "log_every": int,
    "max_minutes": float, "max_clips": int, "motion_adapter": str, "gradient_checkpointing": bool, "scheme": str,
    "crop": float,
}
BASE_OPTIONS: dict[str, type] = {
    "init": str, "preset": str, "size": int, "frames": int, "vae_steps": int, "vae_batch": int, "vae_lr": float,
    "decoder_steps": int, "steps": int, "batch_size": int, "lr": float, "warmup_steps": int, "ema": float, "min_snr": float,
    "neutral_fraction": float, "empty_fraction": float, "augment": bool, "seed": int, "log_every": int,
    "checkpoint_every": int, "sample_every": int, "sample_steps": int, "max_minutes": float, "scheme": str,
    "text": str, "movements": list, "motion_lr_scale": float, "vae_from": str, "eval_every": int, "eval_seeds": int,
    "eval_guidance": float, "text_lr": float, "crop": float, "motion_loss": float, "prediction": str,
}
NULLABLE = {"alpha", "resolution", "crop", "prediction", "max_minutes", "max_clips", "motion_adapter", "init", "vae_from", "eval_every",
            "movements"}


def _relative(path: Path, workspace: Path) -> str:
    try:
        return str(path.resolve().relative_to(workspace.resolve()))
    except ValueError:
        return str(path.resolve())


def check_base(base: str, workspace: Path) -> str:
    """A pipeline folder (stored workspace-relative when inside it) or a hub id."""
    base = str(base or "").strip()
    if not base:
        raise UserInputError("base", "choose the base pipeline (a diffusers folder or a hub id)")
    path = resolve_data(base, workspace)
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise UserInputError(base, "not a diffusers pipeline folder (no model_index.json)")
        return _relative(path, workspace)
    if path.exists():
        raise UserInputError(base, "not a folder")
    if HUB_ID.match(base) and not base.startswith((".", "/", "~")):
        return base
    raise UserInputError(base, "no such base folder (the weights are missing)")


def _options(config: dict[str, Any], allowed: dict[str, type]) -> dict[str, Any]:
    out = {}
    for key, typ in allowed.items():
        if key not in config:
            continue
        value = config[key]
        if value is None:
            if key in NULLABLE:
                out[key] = None
                continue
            raise UserInputError(key, "must not be empty")
        try:
            if typ is bool:
                if not isinstance(value, bool):
                    raise ValueError
            elif typ is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                value = int(value)
            elif typ is float:
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError
            elif typ is list:  # a list of names, or one comma-separated string (``--set movements=a,b``)
                parts = value.split(",") if isinstance(value, str) else list(value)
                value = [str(v).strip() for v in parts if str(v).strip()]
                if not value:
                    raise ValueError
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise UserInputError(key, f"must be {typ.__name__}, not {value!r}") from None
        if typ in (int, float) and value < 0:
            raise UserInputError(key, "must not be negative")
        out[key] = value
    return out


def _data(config: dict[str, Any], where: ValidationContext, scheme: str) -> tuple[str, dict[str, Any]]:
    data = str(config.get("data") or "").strip()
    if not data:
        raise UserInputError("data", "choose the clips to train on (a simulator set, an export or a manifest)")
    info = inspect_data(data, where.workspace, scheme, store=where.store)
    if info["source"] == "workspace":
        raise UserInputError(data, "LoRA and base training read a simulator set or an export, not workspace stages")
    return _relative(resolve_data(data, where.workspace), where.workspace), info


def validate_lora(config: dict[str, Any], where: ValidationContext) -> dict[str, Any]:
    unknown = set(config) - set(LORA_OPTIONS) - {"type", "data", "base"}
    if unknown:
        raise UserInputError(", ".join(sorted(unknown)), "unknown lora-train option(s)")
    out = _options(config, LORA_OPTIONS)
    scheme = out.get("scheme") or DEFAULT_SCHEME
    tax = load_taxonomy(scheme)
    key = str(config.get("type") or "").strip()
    if not key:
        raise UserInputError("type", "choose the cinematic type (a class key) the LoRA learns")
    axis = tax.axis_of(key)
    if out.get("target", "auto") not in TARGETS:
        raise UserInputError(str(out["target"]), f"unknown target (known: {', '.join(TARGETS)})")
    for name, lo in (("rank", 1), ("steps", 1), ("batch_size", 1), ("frames", 2), ("checkpoint_every", 1)):
        if name in out and out[name] < lo:
            raise UserInputError(name, f"must be at least {lo}")
    data, info = _data(config, where, scheme)
    counts = info["classes"].get(axis, {})
    if counts and key not in counts and axis != "movement":
        raise UserInputError(data, f"has no clip labelled {key!r}")
    return {"type": key, "data": data, "base": check_base(config.get("base"), where.workspace), **out}


def validate_base(config: dict[str, Any], where: ValidationContext) -> dict[str, Any]:
    unknown = set(config) - set(BASE_OPTIONS) - {"data"}
    if unknown:
        raise UserInputError(", ".join(sorted(unknown)), "unknown diff-train-base option(s)")
    out = _options(config, BASE_OPTIONS)
    if out.get("init"):
        out["init"] = check_base(out["init"], where.workspace)
    if out.get("vae_from"):
        path = resolve_data(out["vae_from"], where.workspace)
        if not path.is_dir():
            raise UserInputError(out["vae_from"], "no such pipeline or run folder (for its VAE)")
        out["vae_from"] = _relative(path, where.workspace)
    if out.get("text", "movement") not in ("movement", "caption", "labels"):
        raise UserInputError("text", "must be movement, caption or labels")
    size = out.get("size", 32)
    if not 16 <= size <= 256 or size % 16:
        raise UserInputError("size", "must be a multiple of 16 between 16 and 256")
    data, _ = _data(config, where, out.get("scheme") or DEFAULT_SCHEME)
    return {"data": data, **out}


def describe_lora(config: dict[str, Any]) -> str:
    return (f"{config.get('type')} LoRA on {config.get('base')}, {config.get('steps', 500)} steps, "
            f"rank {config.get('rank', 8)}, data {config.get('data')}")


def describe_base(config: dict[str, Any]) -> str:
    return (f"base on {config.get('data')}: {config.get('size', 32)} px × {config.get('frames', 8)} frames, "
            f"VAE {config.get('vae_steps', 1500)} + UNet {config.get('steps', 20000)} steps")


def queue_every_type(store, config: dict[str, Any], device: str = "auto",
                     keys: list[str] | None = None) -> tuple[list, list[dict[str, str]]]:
    """Queue one ``lora-train`` job per class of the scheme (or per key of `keys`), each with
    `config` (its ``type`` replaced). Every configuration is checked before any is queued: with
    `keys` given, any problem stops them all; for the whole scheme, the classes the data cannot
    train (no clip labelled so) are left out and returned as ``[{"type", "reason"}]``."""
    from cinestudio.jobs import service

    scheme = config.get("scheme") or DEFAULT_SCHEME
    tax = load_taxonomy(scheme)
    every = not keys
    keys = tax.all_keys() if every else list(keys)
    for key in keys:
        tax.axis_of(key)
    checked, skipped = [], []
    for key in keys:
        try:
            checked.append(service.validate(store, LORA_KIND, {**config, "type": key}))
        except UserInputError as exc:
            if not every or "has no clip labelled" not in str(exc.reason):
                raise
            skipped.append({"type": key, "reason": str(exc.reason)})
    return [service.submit(store, LORA_KIND, c, device=device) for c in checked], skipped


LORA_TRAIN = register(JobKind(name=LORA_KIND, title="LoRA training", device_class="gpu",
                              entry="cinestudio.jobs.lora_train_run:run_lora", validate=validate_lora,
                              describe=describe_lora))
DIFF_TRAIN_BASE = register(JobKind(name=BASE_KIND, title="Diffusion base training", device_class="gpu",
                                   entry="cinestudio.jobs.lora_train_run:run_base", validate=validate_base,
                                   describe=describe_base))
