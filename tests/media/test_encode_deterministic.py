"""`write_mp4(..., deterministic=True)` makes one file for one set of frames, whatever the
process's heap held before.

x264's macroblock-tree rate control reads memory it has not written: the same frames encoded to a
different file after an in-process `lora train` than at their replay (a render's replay test failed
~1 run in 7). Renders ask for `deterministic` (no macroblock tree).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import numpy as np
import pytest


def dirty_heap(fill: int, blocks: int = 400) -> None:
    """Allocate `blocks` blocks of 256 B–120 kB filled with the byte `fill`, then free them: glibc's
    malloc hands that memory out again, so a reader of unwritten memory sees `fill`."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    held = []
    for n in np.random.default_rng(0).integers(256, 120_000, size=blocks):
        p = libc.malloc(int(n))
        ctypes.memset(p, fill, int(n))
        held.append(p)
    for p in held:
        libc.free(p)


def moving_frames(n: int = 8, size: int = 16) -> list[np.ndarray]:
    """A noisy texture panning by 2 px a frame (what a tiny render looks like to the encoder)."""
    tex = np.random.default_rng(3).integers(0, 256, (size, size + 2 * n, 3), dtype=np.uint8)
    return [np.ascontiguousarray(tex[:, 2 * i:2 * i + size]) for i in range(n)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fills freed memory through glibc's malloc")
@pytest.mark.parametrize("preset", ["veryfast", "medium"])
def test_mp4_does_not_depend_on_the_heap(tmp_path, preset):
    from cinestudio.media.encode import write_mp4

    frames = moving_frames()
    files = []
    for i, fill in enumerate((0xFF, 0x00, 0xFF, 0x00)):
        dirty_heap(fill)
        files.append(write_mp4(tmp_path / f"{i}.mp4", frames, fps=8.0, preset=preset,
                               deterministic=True).read_bytes())
    assert all(f == files[0] for f in files)
