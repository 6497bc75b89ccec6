"""Checkpoints as safetensors (never pickles): model weights, optimizer state and the step count.

Layout of one file: ``model.<name>`` tensors; ``optim.<param index>.<state key>`` tensors; the
metadata holds ``step``, ``epoch`` and JSON for the optimizer's param groups and anything extra.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from cinestudio.errors import UserInputError
from cinestudio.fsutil import atomic_path


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


def save_checkpoint(path: str | os.PathLike[str], model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None, step: int = 0, epoch: int = 0,
                    extra: dict | None = None) -> Path:
    tensors = {f"model.{k}": _cpu(v) for k, v in model.state_dict().items()}
    meta = {"format": "cinestudio.cameraclip/1", "step": str(int(step)), "epoch": str(int(epoch)),
            "extra": json.dumps(extra or {})}
    if optimizer is not None:
        state = optimizer.state_dict()
        for idx, pstate in state["state"].items():
            for key, value in pstate.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{idx}.{key}"] = _cpu(value)
                else:
                    tensors[f"optim.{idx}.{key}"] = torch.tensor(value)
        meta["param_groups"] = json.dumps(state["param_groups"])
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise UserInputError(path, "no such checkpoint")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise UserInputError(path, f"not a readable safetensors checkpoint ({exc})") from None
    return tensors, meta


def load_checkpoint(path: str | os.PathLike[str], model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None, strict: bool = True) -> dict:
    """Load weights (and optimizer state when given); return ``{"step", "epoch", "extra"}``."""
    tensors, meta = read_checkpoint(path)
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        missing, unexpected = model.load_state_dict(weights, strict=False)
    except RuntimeError as exc:  # tensors of other shapes: another architecture or frame count
        raise UserInputError(path, f"checkpoint does not fit this model ({str(exc).splitlines()[-1].strip()})") from None
    if strict and (missing or unexpected):
        raise UserInputError(path, f"checkpoint does not fit this model (missing {list(missing)[:3]}, "
                                   f"unexpected {list(unexpected)[:3]})")
    if optimizer is not None and "param_groups" in meta:
        state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, idx, key = k.split(".", 2)
                state.setdefault(int(idx), {})[key] = v
        groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
                  for g in json.loads(meta["param_groups"])]  # JSON turned tuples (betas) into lists
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    return {"step": int(meta.get("step", 0)), "epoch": int(meta.get("epoch", 0)),
            "extra": json.loads(meta.get("extra", "{}"))}
