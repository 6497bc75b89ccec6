"""Fixtures on the tiny pipeline: one random base (diffusers layout), LoRA files with known effect.

Everything runs on the CPU with one torch thread, at 16 px, 4–8 frames and a handful of steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinestudio.cameradiff import lora as L

RENDER = dict(steps=4, num_frames=8, height=16, width=16, seed=0, guidance_scale=4.0)


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    from cinestudio.cameradiff.tiny import make_tiny

    out = tmp_path_factory.mktemp("cameradiff") / "tiny"
    make_tiny(out, seed=0, preset="test")
    return out


def random_lora(pipe, name: str, target: str, seed: int, std: float = 0.5) -> None:
    """Add an adapter whose lora_B is random (a fresh one is zero and changes nothing)."""
    L.add_lora(pipe.unet, name, rank=4, target=target)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in L.lora_parameters(pipe.unet, name).items():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * std)


@pytest.fixture(scope="session")
def lora_files(tiny_base, tmp_path_factory):
    """``{key: path}``: pan_left and zoom_in on the motion modules, close_up on spatial attention."""
    from cinestudio.cameradiff.backend import load_pipeline

    folder = tmp_path_factory.mktemp("loras")
    pipe = load_pipeline(tiny_base, device="cpu")
    out = {}
    for seed, (key, axis, target) in enumerate([("pan_left", "movement", "motion"), ("zoom_in", "movement", "motion"),
                                                ("close_up", "framing", "spatial")]):
        random_lora(pipe, key, target, seed + 1)
        out[key] = L.save_lora(folder / f"{key}.safetensors", pipe.unet, key,
                               {"key": key, "axis": axis, "target": target, "rank": 4, "base": str(tiny_base),
                                "steps": 0})
    return out


@pytest.fixture(scope="session")
def loaded(tiny_base, lora_files):
    """A pipeline with all three LoRAs loaded: ``(pipe, {key: LoraRef})``. Tests pick subsets."""
    from cinestudio.cameradiff.backend import load_pipeline

    pipe = load_pipeline(tiny_base, device="cpu")
    refs = L.load_loras(pipe, [L.parse_lora_arg(str(p)) for p in lora_files.values()])
    return pipe, {r.key: r for r in refs}


def refs_of(loaded, *specs):
    """LoraRefs for ``("pan_left", weight, start, end)`` tuples (a copy per call)."""
    from dataclasses import replace

    _, by_key = loaded
    out = []
    for spec in specs:
        spec = tuple(spec) if isinstance(spec, tuple) else (spec,)
        key, weight, start, end = spec + (None, 1.0, None, None)[len(spec):]
        out.append(replace(by_key[key], weight=weight, start=start, end=end))
    return out


class StubScorer:
    """Expression per key from a table, whatever the frames; records its calls."""

    def __init__(self, table: dict[str, float], num_frames: int = 4):
        self.table = table
        self.num_frames = num_frames
        self.calls: list[tuple[tuple[int, ...], list[str]]] = []

    def expression(self, frames, keys):
        self.calls.append((tuple(np.asarray(frames).shape), list(keys)))
        return np.array([self.table[k] for k in keys], np.float64)
