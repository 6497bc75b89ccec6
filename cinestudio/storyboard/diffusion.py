"""The diffusion backend: CameraDiff + CLIPLoRA per shot, as render jobs (wired when the job
system's render kind and CameraDiff's render land)."""

from __future__ import annotations

from typing import Any

from cinestudio.errors import UserInputError


class DiffusionBackend:
    name = "diffusion"

    def __init__(self, store: Any = None, device: str = "auto", **options: Any):
        self.store, self.device, self.options = store, device, options

    def render_items(self, board, items, cache, *, progress=None, should_stop=None):
        raise UserInputError("--backend diffusion", "the diffusion backend is not available in this build yet "
                                                    "(render with --backend previz)")
