"""Movement read four ways: each clip is also classified mirrored, played backwards and both.

A mirror turns a pan left into a pan right and a reversal turns a zoom in into a zoom out
(`cinestudio.cameraclip.augment`), so each variant's movement probabilities, mapped back to the
original clip's classes, are another reading of the same clip. `movement_log_probs` averages the
four log-probabilities (a geometric mean). CameraCLIP trains on these variants, yet its reading
of one is not exactly its reading of another; averaging them removes some of the disagreement,
which helped noisy, shaky real clips most (docs/cameraclip.md, fourteenth session).

Only the movement axis is read this way (a reversed zoom does not keep its framing), and only for
class probabilities (`classify`, `eval`, pre-labels, CLIPLoRA's guidance); free-text similarities
(`score`) and the training's own validation R@1 read each clip once. The run's experts and its
movement CNN read the same four variants (`experts.PairExpert.p_second`,
`movement_cnn.MovementCNN.log_probs`), so that the whole movement reading of a
mirrored or reversed clip is exactly the original's with its classes swapped. The motion features
of a variant are derived from the clip's own (`augment.variant_motion`), so it costs three more
passes through the model, not more optical flow.
"""

from __future__ import annotations

import numpy as np
import torch

from cinestudio.cameraclip.augment import HFLIP_SWAP, REVERSE_SWAP, variant_frames, variant_motion

#: as is, mirrored, reversed, both (the bits of `augment.variant_frames`)
VARIANTS = (0, 1, 2, 3)


def class_permutation(keys: list[str], variant: int) -> np.ndarray | None:
    """For each class of `keys`, the index of the class the variant turns it into (a pan left,
    mirrored, is read as a pan right): ``variant_probs[:, perm]`` are the original's. None when a
    class's counterpart is not among `keys` (a scheme with a pan left and no pan right)."""
    out = []
    for key in keys:
        if variant & 1:
            key = HFLIP_SWAP.get(key, key)
        if variant & 2:
            key = REVERSE_SWAP.get(key, key)
        if key not in keys:
            return None
        out.append(keys.index(key))
    return np.array(out)


@torch.no_grad()
def movement_log_probs(model, frames: np.ndarray, raw_motion: np.ndarray, keys: list[str], text: torch.Tensor,
                       batch_size: int = 64, variants: tuple[int, ...] = VARIANTS,
                       video: torch.Tensor | None = None) -> np.ndarray:
    """Mean over `variants` of the movement log-probabilities ``(B, C)`` of prepared clips
    (`frames` ``(B, T, S, S, 3)`` uint8, raw motion ``(B, T-1, RAW_DIM)``) against the class
    embeddings `text` ``(C, D)`` of `keys`, each variant's mapped back to the original classes
    (variants the classes are not closed under are left out). `video`: the clips' own embeddings
    ``(B, D)`` when the caller has them already (variant 0 is then not embedded again)."""
    from cinestudio.cameraclip.infer import embed_prepared

    scale = model.logit_scale.exp().clamp(max=100.0)
    total, n = None, 0
    for v in variants:
        perm = class_permutation(keys, v)
        if perm is None:
            continue
        seen = video if v == 0 and video is not None else embed_prepared(
            model, variant_frames(frames, v), model.encode_motion(variant_motion(raw_motion, v)), batch_size)
        logp = torch.log_softmax(scale * (seen @ text.T), dim=1).cpu().numpy()[:, perm]
        total, n = (logp if total is None else total + logp), n + 1
    return total / n
