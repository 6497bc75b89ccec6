"""The diffusion backend: an `AnimateDiffPipeline` loaded with ``from_pretrained``.

Two layouts are accepted for ``base`` (a local folder or a Hugging Face hub id):

- an AnimateDiff pipeline folder (``model_index.json`` names ``AnimateDiffPipeline``; its ``unet/``
  is a ``UNetMotionModel``, its ``motion_adapter/`` the adapter) — what ``cinestudio diff
  make-tiny`` and ``cinestudio diff train-base`` write;
- a Stable-Diffusion-1.5-style folder (``StableDiffusionPipeline``) plus a `MotionAdapter` given as
  ``motion_adapter`` (folder or hub id; default: the folder's own ``motion_adapter/`` if it has one,
  else `DEFAULT_MOTION_ADAPTER`), the usual way to run AnimateDiff on a real base.

Nothing is downloaded unless a hub id is given and the machine is online; a missing folder, a
folder without weights or a hub id that cannot be fetched is a `UserInputError` saying which.

Devices: ``cpu``, ``cuda`` (or ``cuda:N``) or ``auto``; fp16 on CUDA by default (``dtype``),
fp32 on CPU. ``attention_slicing`` and ``cpu_offload`` (model CPU offload through accelerate) are
for small GPUs. The scheduler is the folder's own unless ``scheduler="ddim"`` asks for DDIM with the
AnimateDiff settings (linear betas, no clipping, ``linspace`` spacing), which CLIPLoRA's x̂0
prediction assumes for exactness (other ε/v-prediction schedulers work, see `predict_x0`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError

DEFAULT_MOTION_ADAPTER = "guoyww/animatediff-motion-adapter-v1-5-2"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
MODEL_INDEX = "model_index.json"
DTYPES = ("auto", "float32", "float16", "bfloat16")


def quiet_hub_output() -> None:
    """Silence diffusers'/transformers' loading bars and info logs (they go to stderr otherwise)."""
    with contextlib.suppress(Exception):
        import diffusers.utils.logging as dlog

        dlog.set_verbosity_error()
        dlog.disable_progress_bar()
    with contextlib.suppress(Exception):
        import transformers.utils.logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    logging.getLogger("diffusers").setLevel(logging.ERROR)


def resolve_device(device: str = "auto") -> str:
    import torch

    device = (device or "auto").strip().lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device != "cpu" and not re.fullmatch(r"cuda(:\d+)?", device):
        raise UserInputError(device, "device must be cpu, cuda (or cuda:N) or auto")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserInputError(device, "CUDA is not available on this machine")
    return device


def resolve_dtype(dtype: str, device: str):
    import torch

    dtype = (dtype or "auto").lower()
    if dtype not in DTYPES:
        raise UserInputError(dtype, f"dtype must be one of {', '.join(DTYPES)}")
    if dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


def dtype_kwargs(torch_dtype) -> dict[str, Any]:
    """``from_pretrained``'s dtype argument: ``dtype`` in newer diffusers, ``torch_dtype`` before."""
    try:
        from diffusers.utils import deprecation_utils

        newer = hasattr(deprecation_utils, "_resolve_dtype")
    except ImportError:
        newer = False
    return {"dtype" if newer else "torch_dtype": torch_dtype}


def _is_local(ref: str) -> bool:
    p = Path(ref).expanduser()
    return p.exists() or p.is_absolute() or ref.startswith((".", "~")) or not HUB_ID.match(ref)


def check_source(ref: str | os.PathLike[str], what: str = "base") -> tuple[str, bool]:
    """(``ref`` as a string, whether it is a local folder); raise if a local path is unusable."""
    ref = os.fspath(ref)
    if not ref.strip():
        raise UserInputError(what, "give a diffusers folder or a hub id")
    if not _is_local(ref):
        return ref, False
    path = Path(ref).expanduser()
    if not path.exists():
        raise UserInputError(ref, f"no such {what} folder (the weights are missing; download them or run "
                                  "`cinestudio diff make-tiny` for a test pipeline)")
    if not path.is_dir():
        raise UserInputError(ref, f"not a folder: a {what} is a diffusers folder (model_index.json / config.json)")
    return str(path), True


def read_model_index(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / MODEL_INDEX
    if not path.is_file():
        raise UserInputError(folder, f"not a diffusers pipeline folder (no {MODEL_INDEX}): the base weights are missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(path, f"not valid JSON: {exc}") from None


def fetch_model_index(hub_id: str) -> dict[str, Any]:
    """A hub repository's ``model_index.json`` (from the local cache, or downloaded if online)."""
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(hub_id, MODEL_INDEX)
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:  # offline, no such repository, gated, ...: all mean "weights missing"
        raise UserInputError(hub_id, "no local folder of that name, and the hub id could not be fetched (offline, or "
                                     f"no such repository?): the base weights are missing ({_short(exc)[:160]})") from None


def _missing_weights(folder: Path, index: dict) -> list[str]:
    """Components listed in the model index whose folder has a config but no weights file."""
    missing = []
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = folder / name
        if not (sub / "config.json").is_file():
            continue  # tokenizer, scheduler, feature extractor: no weights
        if not any(sub.glob("*.safetensors")) and not any(sub.glob("*.bin")) and not any(sub.glob("*.index.json")):
            missing.append(name)
    return missing


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class BackendOptions:
    device: str = "auto"
    dtype: str = "auto"
    motion_adapter: str | None = None
    attention_slicing: bool = False
    cpu_offload: bool = False
    scheduler: str | None = None  # None: the folder's own; "ddim": DDIM with AnimateDiff settings


def load_motion_adapter(ref: str, torch_dtype):
    from diffusers import MotionAdapter

    ref, local = check_source(ref, "motion adapter")
    if local and not (Path(ref) / "config.json").is_file():
        raise UserInputError(ref, "not a MotionAdapter folder (no config.json): the motion adapter weights are missing")
    try:
        return MotionAdapter.from_pretrained(ref, **dtype_kwargs(torch_dtype))
    except (OSError, ValueError, RuntimeError) as exc:
        where = "folder" if local else "hub id (offline, or no such repository?)"
        raise UserInputError(ref, f"could not load the motion adapter from this {where}: {_short(exc)}") from None


def ddim_scheduler(config: dict):
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_config(config, beta_schedule="linear", clip_sample=False,
                                     timestep_spacing="linspace", steps_offset=1)


def load_pipeline(base: str | os.PathLike[str], options: BackendOptions | None = None, **kwargs: Any):
    """An `AnimateDiffPipeline` on the requested device, progress bars off.

    ``kwargs`` override `BackendOptions` fields (``device=``, ``dtype=``, ``motion_adapter=``, ...).
    """
    opts = options or BackendOptions()
    if kwargs:
        opts = BackendOptions(**{**opts.__dict__, **kwargs})
    quiet_hub_output()
    import torch  # noqa: F401  (import errors surface here, not mid-load)
    from diffusers import AnimateDiffPipeline

    device = resolve_device(opts.device)
    torch_dtype = resolve_dtype(opts.dtype, device)
    ref, local = check_source(base, "base")
    extra: dict[str, Any] = {}
    if local:
        index = read_model_index(ref)
        missing = _missing_weights(Path(ref), index)
        if missing:
            raise UserInputError(ref, f"the weights of {', '.join(missing)} are missing (config without a weights file)")
        is_animatediff = index.get("_class_name") == "AnimateDiffPipeline"
        own_adapter = Path(ref) / "motion_adapter"
        adapter_ref = opts.motion_adapter or (None if is_animatediff else
                                              (str(own_adapter) if (own_adapter / "config.json").is_file()
                                               else DEFAULT_MOTION_ADAPTER))
    else:
        index = fetch_model_index(ref)
        is_animatediff = index.get("_class_name") == "AnimateDiffPipeline"
        adapter_ref = opts.motion_adapter or (None if is_animatediff else DEFAULT_MOTION_ADAPTER)
    if adapter_ref is not None:
        extra["motion_adapter"] = load_motion_adapter(adapter_ref, torch_dtype)
    try:
        pipe = AnimateDiffPipeline.from_pretrained(ref, **dtype_kwargs(torch_dtype), **extra)
    except (OSError, ValueError, RuntimeError, TypeError) as exc:
        where = "folder" if local else "hub id (offline, or no such repository?)"
        raise UserInputError(ref, f"could not load an AnimateDiff pipeline from this {where}: {_short(exc)}") from None
    if opts.scheduler == "ddim":
        pipe.scheduler = ddim_scheduler(pipe.scheduler.config)
    elif opts.scheduler not in (None, "", "default"):
        raise UserInputError(str(opts.scheduler), "scheduler must be ddim or left unset (the folder's own)")
    if opts.attention_slicing:
        pipe.enable_attention_slicing()
    if opts.cpu_offload and device.startswith("cuda"):
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    pipe._cinestudio_source = {"base": ref, "motion_adapter": adapter_ref, "device": device,
                               "dtype": str(torch_dtype).replace("torch.", "")}
    return pipe


def describe_pipeline(pipe) -> dict[str, Any]:
    """Where the pipeline came from and what it is (for sidecars and run configs)."""
    info = dict(getattr(pipe, "_cinestudio_source", {}))
    unet = pipe.unet
    info.update({
        "unet": type(unet).__name__,
        "sample_size": int(unet.config.sample_size) * int(pipe.vae_scale_factor),
        "vae_scale_factor": int(pipe.vae_scale_factor),
        "scheduler": type(pipe.scheduler).__name__,
        "parameters_m": round(sum(p.numel() for p in unet.parameters()) / 1e6, 3),
    })
    return info
