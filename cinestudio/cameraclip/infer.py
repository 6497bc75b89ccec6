"""Using a trained run: load it, embed clips and class texts, classify, score texts against frames.

`score_frames(model, frames, texts)` is the library entry CLIPLoRA calls on decoded previews.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from cinestudio.cameraclip import features
from cinestudio.cameraclip.checkpoint import load_checkpoint
from cinestudio.cameraclip.experts import PAIRS, PairExpert, choose_moves
from cinestudio.cameraclip import movement_cnn
from cinestudio.cameraclip.movement_cnn import MovementCNN, mix
from cinestudio.cameraclip.model import CameraCLIP
from cinestudio.cameraclip.prior import movement_bonus
from cinestudio.cameraclip.registry import ModelSpec
from cinestudio.cameraclip.symmetry import VARIANTS, movement_log_probs
from cinestudio.errors import UserInputError
from cinestudio.taxonomy import AXES, DEFAULT_SCHEME, Taxonomy, load_taxonomy

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
LAST_CHECKPOINT = Path("checkpoints") / "last.safetensors"


def resolve_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise UserInputError(device, "device must be cpu, cuda or auto")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserInputError(device, "CUDA is not available on this machine")
    return device


@dataclass
class LoadedRun:
    """A trained CameraCLIP with the taxonomy it was trained on."""

    model: CameraCLIP
    taxonomy: Taxonomy
    config: dict
    path: Path | None = None
    experts: list[PairExpert] = field(default_factory=list)  # the run's experts (zoom/dolly, pan/tracking: `experts`)
    movement_cnn: MovementCNN | None = None  # the second movement reader (`movement_cnn`), when the run has one
    _class_cache: dict | None = None

    @property
    def movement_prior(self) -> float:
        """The run's estimator-prior bonus on movement (`cinestudio.cameraclip.prior`; 0 for runs
        trained before it existed)."""
        return float((self.config.get("train") or {}).get("movement_prior") or 0.0)

    def class_embeddings(self, axis: str) -> tuple[list[str], torch.Tensor]:
        if self._class_cache is None:
            self._class_cache = {}
        if axis not in self._class_cache:
            self._class_cache[axis] = class_embeddings(self.model, self.taxonomy, axis)
        return self._class_cache[axis]


def read_run_config(run: str | os.PathLike[str]) -> dict:
    run = Path(run)
    cfg_path = run / CONFIG_NAME
    if not run.is_dir():
        raise UserInputError(run, "not a CameraCLIP run folder (no such folder)")
    if not cfg_path.is_file():
        raise UserInputError(run, f"not a CameraCLIP run folder (no {CONFIG_NAME})")
    try:
        return json.loads(cfg_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(cfg_path, f"not valid JSON: {exc}") from None


def load_run(run: str | os.PathLike[str], device: str = "auto") -> LoadedRun:
    """Build the run's model (random init, no download) and load its trained weights."""
    run = Path(run)
    cfg = read_run_config(run)
    spec = ModelSpec.from_dict({**cfg["model"], "pretrained": None})
    model = CameraCLIP(spec, device=resolve_device(device))
    weights = run / WEIGHTS_NAME
    if not weights.is_file():
        weights = run / LAST_CHECKPOINT
    if not weights.is_file():
        raise UserInputError(run, "run has no weights yet (no model.safetensors or checkpoint)")
    load_checkpoint(weights, model)
    model.eval()
    experts = [PairExpert.load(run / pair.file, spec.num_frames, str(model.device), pair)
               for pair in PAIRS.values() if (run / pair.file).is_file()]
    cnn_path = run / movement_cnn.FILE_NAME
    cnn = MovementCNN.read(cnn_path, str(model.device))[0] if cnn_path.is_file() else None
    return LoadedRun(model=model, taxonomy=load_taxonomy(cfg.get("scheme") or DEFAULT_SCHEME), config=cfg, path=run,
                     experts=experts, movement_cnn=cnn)


@torch.no_grad()
def class_embeddings(model: CameraCLIP, tax: Taxonomy, axis: str) -> tuple[list[str], torch.Tensor]:
    """Per class of `axis`: the normalised mean of its prompts' embeddings (prompt ensembling)."""
    classes = tax.classes(axis)
    prompts = [p for c in classes for p in c.prompts]
    emb = model.encode_texts(prompts)
    out, i = [], 0
    for c in classes:
        out.append(emb[i:i + len(c.prompts)].mean(0))
        i += len(c.prompts)
    return [c.key for c in classes], torch.nn.functional.normalize(torch.stack(out), dim=-1)


def _as_clips(frames: np.ndarray) -> tuple[np.ndarray, bool]:
    frames = np.asarray(frames)
    if frames.ndim == 4:
        return frames[None], True
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames (T, H, W, 3) or (B, T, H, W, 3), got {frames.shape}")
    return frames, False


def prepare_clip_raw(model: CameraCLIP, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Any number of uint8 frames → the model's T frames at its size, and their raw motion
    ``(T-1, RAW_DIM)`` (zeros when the model does not use motion)."""
    frames = np.asarray(frames)
    t = model.spec.num_frames
    if frames.shape[0] != t:
        idx = np.linspace(0, frames.shape[0] - 1, t).round().astype(int)
        frames = frames[idx]
    fitted = model.prepare_frames(frames)
    raw = features.raw_motion(fitted) if model.uses_motion else np.zeros((t - 1, features.RAW_DIM), np.float32)
    return fitted, raw


def prepare_clip(model: CameraCLIP, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Any number of uint8 frames → the model's T frames at its size, and their motion features."""
    fitted, raw = prepare_clip_raw(model, frames)
    return fitted, model.encode_motion(raw)


@torch.no_grad()
def embed_prepared(model: CameraCLIP, frames: np.ndarray, motion: np.ndarray | None,
                   batch_size: int = 64) -> torch.Tensor:
    """Prepared clips ``(B, T, S, S, 3)`` uint8 (+ motion ``(B, T-1, F)``) → ``(B, D)`` embeddings."""
    out = []
    for i in range(0, len(frames), batch_size):
        pixels = model.to_pixels(frames[i:i + batch_size])
        m = model.motion_tensor(None if motion is None else motion[i:i + batch_size])
        out.append(model.encode_video(pixels, m))
    if not out:
        return torch.zeros((0, model.embed_dim), device=model.device)
    return torch.cat(out)


def _model_of(model: CameraCLIP | LoadedRun) -> CameraCLIP:
    return model.model if isinstance(model, LoadedRun) else model


@torch.no_grad()
def embed_clips(model: CameraCLIP | LoadedRun, frames: np.ndarray, batch_size: int = 64) -> torch.Tensor:
    m = _model_of(model)
    clips, _ = _as_clips(frames)
    prepared = [prepare_clip(m, c) for c in clips]
    return embed_prepared(m, np.stack([p[0] for p in prepared]), np.stack([p[1] for p in prepared]), batch_size)


@torch.no_grad()
def score_frames(model: CameraCLIP | LoadedRun, frames: np.ndarray, texts: list[str]) -> np.ndarray:
    """Cosine similarity of clip(s) and texts.

    `frames`: uint8 RGB ``(T, H, W, 3)`` for one clip (→ ``(len(texts),)``) or ``(B, T, H, W, 3)``
    (→ ``(B, len(texts))``); any T and size (uniformly resampled to the model's frame count).
    """
    m = _model_of(model)
    if not texts:
        raise UserInputError("--text", "give at least one text to score")
    _, single = _as_clips(frames)
    video = embed_clips(m, frames)
    sims = (video @ m.encode_texts(list(texts)).T).float().cpu().numpy()
    return sims[0] if single else sims


@torch.no_grad()
def movement_choice(model: CameraCLIP, frames: np.ndarray, raw: np.ndarray, video: torch.Tensor, keys: list[str],
                    text: torch.Tensor, movement_prior: float = 0.0, experts: list[PairExpert] | tuple = (),
                    four_ways: bool = True, batch_size: int = 64,
                    cnn: MovementCNN | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Movement of prepared clips (`frames` ``(B, T, S, S, 3)``, raw motion, their embeddings
    `video` ``(B, D)``) as `classify` and `eval` pick it: the class probabilities ``(B, C)`` over
    `keys` — read as is, mirrored, reversed and both with `four_ways`
    (`cinestudio.cameraclip.symmetry`), mixed with the movement CNN's reading when there is one
    (`cinestudio.cameraclip.movement_cnn`), with the estimator prior when `movement_prior` > 0
    (`cinestudio.cameraclip.prior`) — and the chosen class per clip ``(B,)``: the most probable one,
    unless `experts` decide a zoom against a dolly or a pan against a tracking shot
    (`cinestudio.cameraclip.experts`, reading the same variants)."""
    variants = VARIANTS if four_ways else (0,)
    if four_ways:
        logp = movement_log_probs(model, frames, raw, keys, text, batch_size, video=video)
    else:
        scale = model.logit_scale.exp().clamp(max=100.0)
        logp = torch.log_softmax(scale * (video @ text.T), dim=1).cpu().numpy()
    logp = mix(logp, cnn, frames, keys, variants)
    if movement_prior > 0 and model.uses_motion:
        logp = logp + movement_bonus(raw, keys, movement_prior)
    probs = np.exp(logp - logp.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    return probs, choose_moves(probs, keys, {e.pair.name: e.p_second(frames, variants) for e in experts})


@torch.no_grad()
def classify_frames(run: LoadedRun, frames: np.ndarray, axes: tuple[str, ...] = AXES, four_ways: bool = True) -> dict:
    """Per axis, classes ranked by probability (softmax of scaled similarities over the axis; for
    movement, as `movement_choice` reads it: four ways with `four_ways`, with the run's movement
    CNN, estimator prior and experts when it has them). A top zoom that the experts and CameraCLIP together take
    for a dolly trades places (and scores) with its twin, and likewise a pan with a tracking shot."""
    m = run.model
    clips, _ = _as_clips(frames)
    fitted, raw = prepare_clip_raw(m, clips[0])
    video = embed_prepared(m, fitted[None], m.encode_motion(raw)[None])[0]
    scale = m.logit_scale.exp().clamp(max=100.0)
    result = {}
    for axis in axes:
        keys, text = run.class_embeddings(axis)
        sims = text @ video
        if axis == "movement":
            probs, chosen = movement_choice(m, fitted[None], raw[None], video[None], keys, text, run.movement_prior,
                                            run.experts, four_ways, cnn=run.movement_cnn)
            probs, top, chosen = probs[0], int(probs[0].argmax()), int(chosen[0])
            probs[[top, chosen]] = probs[[chosen, top]]
        else:
            probs = torch.softmax(scale * sims, dim=0).cpu().numpy()
        order = np.argsort(-probs, kind="stable").tolist()
        result[axis] = [{"key": keys[i], "score": round(float(probs[i]), 4),
                         "similarity": round(float(sims[i]), 4)} for i in order]
    return result


def read_clip(path: str | os.PathLike[str], num_frames: int, start: int = 0, end: int | None = None) -> np.ndarray:
    from cinestudio.media.sampling import sample_frames

    path = Path(path)
    if not path.exists():
        raise UserInputError(path, "no such file")
    if path.is_dir():
        raise UserInputError(path, "is a folder, not a video")
    return np.asarray(sample_frames(path, n=num_frames, start=start, end=end))
