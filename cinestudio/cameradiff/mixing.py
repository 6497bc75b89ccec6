"""Per-adapter, per-frame LoRA strengths, and a tap on the UNet's forward pass.

`AdapterMixer` puts a forward hook on every ``lora_B`` of the LoRA layers that hold the given
adapters: the hook multiplies the adapter's update by its current strength, a number or one number
per frame. peft computes ``base(x) + lora_B(lora_A(x)) * scaling``, so with all adapters active at
weight 1 (``set_adapters(names, [1, ...])``), a strength ``w`` here is exactly what
``set_adapters(names, [w, ...])`` would do (`tests/cameradiff` checks it) — and it can also vary
over frames, which ``set_adapters`` cannot:

- in the motion modules a LoRA layer sees ``(batch·height·width, frames, channels)``: the frame is
  axis 1, so the per-frame vector scales each frame's token;
- in the spatial attention it sees ``(batch·frames, tokens, channels)`` with the frame innermost in
  axis 0 (``UNetMotionModel`` folds ``(B, C, F, H, W)`` into ``B·F`` images), so the vector is tiled
  over the batch.

`UNetTap` replaces the UNet's ``forward`` for the length of one render: it remembers the last call's
input and output (CLIPLoRA predicts x̂0 from them) and, for LoRA Composite, runs the UNet once per
LoRA (that LoRA alone, at its strengths) and mixes the noise predictions — conditional and
unconditional halves alike — before the pipeline applies classifier-free guidance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


class AdapterMixer:
    """Strengths ``(adapters, frames)`` applied through hooks on the adapters' ``lora_B`` layers."""

    def __init__(self, unet, adapters: Sequence[str], num_frames: int):
        from peft.tuners.lora import LoraLayer

        from cinestudio.cameradiff.lora import is_motion_layer

        self.adapters = list(adapters)
        self.num_frames = int(num_frames)
        self._index = {a: i for i, a in enumerate(self.adapters)}
        self._matrix = np.ones((len(self.adapters), self.num_frames), np.float32)
        self._cache: dict[tuple, torch.Tensor] = {}
        self._scalar: list[float | None] = [1.0] * len(self.adapters)
        self._handles = []
        self.layers = 0
        for name, module in unet.named_modules():
            if not isinstance(module, LoraLayer):
                continue
            motion = is_motion_layer(name)
            for adapter in self.adapters:
                if adapter in module.lora_B:
                    hook = self._make_hook(self._index[adapter], motion)
                    self._handles.append(module.lora_B[adapter].register_forward_hook(hook))
                    self.layers += 1

    def set(self, matrix: np.ndarray) -> None:
        """Strengths, one row per adapter: ``(adapters,)`` or ``(adapters, frames)``."""
        m = np.asarray(matrix, np.float32)
        if m.ndim == 1:
            m = np.repeat(m[:, None], self.num_frames, axis=1)
        if m.shape != self._matrix.shape:
            raise ValueError(f"expected strengths of shape {self._matrix.shape}, got {m.shape}")
        self._matrix = m.copy()
        self._cache.clear()
        self._scalar = [float(row[0]) if np.all(row == row[0]) else None for row in m]

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix.copy()

    def _vector(self, idx: int, like: torch.Tensor) -> torch.Tensor:
        key = (idx, like.device, like.dtype)
        vec = self._cache.get(key)
        if vec is None:
            vec = torch.as_tensor(self._matrix[idx], device=like.device, dtype=like.dtype)
            self._cache[key] = vec
        return vec

    def _make_hook(self, idx: int, motion: bool):
        def hook(module: torch.nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
            scalar = self._scalar[idx]
            if scalar is not None:
                return None if scalar == 1.0 else output * scalar
            vec = self._vector(idx, output)
            f = self.num_frames
            if motion and output.ndim == 3 and output.shape[1] == f:
                return output * vec.view(1, f, 1)
            if not motion and output.shape[0] % f == 0:
                shape = (-1,) + (1,) * (output.ndim - 1)
                return output * vec.repeat(output.shape[0] // f).view(shape)
            return output * vec.mean()  # a layout without a frame axis (e.g. context windows)
        return hook

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __enter__(self) -> AdapterMixer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UNetTap:
    """Wraps ``unet.forward`` for one render: records the last call, runs Composite's passes."""

    def __init__(self, unet, mixer: AdapterMixer | None = None):
        self.unet = unet
        self.mixer = mixer
        self.passes: list[tuple[np.ndarray, np.ndarray]] | None = None  # (strengths, per-frame coefficient)
        self.calls = 0  # UNet evaluations (a Composite step counts one per LoRA)
        self.last_sample: torch.Tensor | None = None
        self.last_timestep: Any = None
        self.last_output: torch.Tensor | None = None
        self._had_own = "forward" in unet.__dict__
        self._orig = unet.forward
        unet.forward = self.forward

    def set_composite(self, passes: list[tuple[np.ndarray, np.ndarray]] | None) -> None:
        """Per pass: the strengths matrix (that LoRA alone) and its mixing coefficient per frame
        (``(frames,)``, summing to 1 over the passes at every frame)."""
        self.passes = passes or None

    def forward(self, sample: torch.Tensor, timestep: Any, *args: Any, **kwargs: Any):
        if not self.passes or self.mixer is None:
            out = self._orig(sample, timestep, *args, **kwargs)
            self.calls += 1
            pred = out[0] if isinstance(out, tuple) else out.sample
        else:
            keep = self.mixer.matrix
            pred = None
            try:
                for strengths, coef in self.passes:
                    self.mixer.set(strengths)
                    out = self._orig(sample, timestep, *args, **kwargs)
                    self.calls += 1
                    one = out[0] if isinstance(out, tuple) else out.sample
                    c = torch.as_tensor(coef, device=one.device, dtype=one.dtype).view(1, 1, -1, 1, 1)
                    pred = one * c if pred is None else pred + one * c
            finally:
                self.mixer.set(keep)
            out = (pred,) if isinstance(out, tuple) else type(out)(sample=pred)
        self.last_sample, self.last_timestep, self.last_output = sample, timestep, pred
        return out

    def remove(self) -> None:
        if self._had_own:
            self.unet.forward = self._orig
        else:
            self.unet.__dict__.pop("forward", None)

    def __enter__(self) -> UNetTap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def predict_x0(scheduler, x_t: torch.Tensor, model_output: torch.Tensor, timestep: Any) -> torch.Tensor:
    """The clean latent x̂0 the model predicts at `timestep` from the latent `x_t` it was given.

    For schedulers on the ᾱ (alphas_cumprod) parameterisation with unscaled inputs (DDIM, DDPM,
    PNDM, DPM-Solver, UniPC, LCM): ε-prediction ``(x_t − √(1−ᾱ) ε) / √ᾱ``, v-prediction
    ``√ᾱ x_t − √(1−ᾱ) v``, sample-prediction as is. Schedulers that scale their inputs (Euler, Heun,
    …: ``init_noise_sigma`` > 1) are on the σ parameterisation: ``x̂0 = x_t − σ ε``.
    """
    kind = getattr(scheduler.config, "prediction_type", "epsilon")
    if kind == "sample":
        return model_output
    t = int(timestep.item() if isinstance(timestep, torch.Tensor) else timestep)
    sigma_based = float(getattr(scheduler, "init_noise_sigma", 1.0)) > 1.0 and hasattr(scheduler, "sigmas")
    if sigma_based:
        ts = scheduler.timesteps.to("cpu").float()
        i = int(torch.argmin((ts - t).abs()))
        sigma = float(scheduler.sigmas[i])
        return x_t - sigma * model_output if kind == "epsilon" else x_t  # v on σ-schedulers: rough
    a = scheduler.alphas_cumprod[t].to(x_t.device, x_t.dtype)
    if kind == "v_prediction":
        return a.sqrt() * x_t - (1 - a).sqrt() * model_output
    return (x_t - (1 - a).sqrt() * model_output) / a.sqrt()
