"""Procedural figures: what close shots of them show."""

import dataclasses

import numpy as np

from cinestudio.camerasim.figures import draw_top, random_style


def _hat_style(seed: int):
    return dataclasses.replace(random_style(np.random.default_rng(seed)), hair_style="hat")


def _crown_pixels(sprite, radius_m: float) -> np.ndarray:
    """Grey levels (0-255) of the sprite's pixels within `radius_m` of its centre."""
    h, w = sprite.rgba.shape[:2]
    xs = (np.arange(w) + 0.5) / w * sprite.width - sprite.width / 2
    ys = sprite.bottom + sprite.height - (np.arange(h) + 0.5) / h * sprite.height
    inside = np.hypot(xs[None, :], ys[:, None]) < radius_m
    return sprite.rgba[..., :3].mean(-1)[inside] * 255


def test_a_hat_seen_from_above_has_seams_and_grain_to_follow():
    """An overhead close-up of a hat fills the frame with its crown: a flat disc there hid every
    pan, tilt and tracking move. Its cloth now has grain, six seams and a button."""
    for seed in range(4):
        style = _hat_style(seed)
        crown = _crown_pixels(draw_top(style, np.random.default_rng(seed), ppm=1500.0), 0.05 * style.height)
        assert crown.size > 1000
        assert crown.std() > 0.08 * crown.mean(), (seed, crown.std(), crown.mean())
        dark = crown < 0.75 * np.median(crown)  # the seams and the button
        assert 0.02 < dark.mean() < 0.4

