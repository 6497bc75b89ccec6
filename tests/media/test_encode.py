"""Round trips through write_mp4 / write_gif."""

from __future__ import annotations

import av
import numpy as np
import pytest

from cinestudio.media.encode import fps_fraction, write_gif, write_mp4


def _frames(n=12, h=48, w=64):
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, :] = (20 * i % 256, 100, 200 - 10 * i)
        f[: h // 2, : w // 2] = (255, 0, 0)
        out.append(f)
    return out


def _decode(path):
    """The codec name, average frame rate and frames of `path`'s video (read while the container is
    open: PyAV 18.1.1 refuses a closed container's stream attributes)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return s.codec_context.name, float(s.average_rate), frames


def test_mp4_round_trip(tmp_path):
    frames = _frames()
    out = write_mp4(tmp_path / "clip.mp4", iter(frames), fps=10)
    assert out == tmp_path / "clip.mp4"
    codec, rate, decoded = _decode(out)
    assert codec == "h264"
    assert rate == pytest.approx(10)
    assert len(decoded) == len(frames)
    for a, b in zip(frames, decoded):
        assert b.shape == a.shape
        assert np.abs(a.astype(int) - b).mean() < 3
    # no temporary files left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_mp4_odd_size_is_padded_by_edge(tmp_path):
    frames = _frames(n=3, h=47, w=63)
    _, _, decoded = _decode(write_mp4(tmp_path / "odd.mp4", frames, fps=25))
    assert decoded[0].shape == (48, 64, 3)
    # yuv420p halves chroma resolution, so the red/blue edge at an odd position bleeds a little
    assert np.median(np.abs(decoded[0][:47, :63].astype(int) - frames[0])) <= 3
    # the padding row/column repeats the edge rather than adding black
    assert np.abs(decoded[0][47, :63].astype(int) - frames[0][46]).mean() < 6
    assert np.abs(decoded[0][:47, 63].astype(int) - frames[0][:, 62]).mean() < 6


def test_mp4_rejects_bad_input_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_mp4(tmp_path / "x.mp4", [], fps=10)
    with pytest.raises(ValueError):
        write_mp4(tmp_path / "x.mp4", [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)], fps=10)
    with pytest.raises(ValueError):
        write_mp4(tmp_path / "x.mp4", [np.zeros((8, 8, 3), np.float32)], fps=10)
    assert list(tmp_path.iterdir()) == []


def test_fps_fraction():
    assert fps_fraction(29.97) == fps_fraction(30000 / 1001)
    assert fps_fraction(30000 / 1001).denominator == 1001
    assert fps_fraction(25) == 25
    with pytest.raises(ValueError):
        fps_fraction(0)


def test_gif_round_trip(tmp_path):
    frames = _frames(n=6)
    out = write_gif(tmp_path / "anim.gif", frames, fps=10, max_size=32)
    codec, _, decoded = _decode(out)
    assert codec == "gif"
    assert len(decoded) == 6
    assert decoded[0].shape == (24, 32, 3)
    for a, b in zip(frames, decoded):
        small = a[::2, ::2]
        assert np.abs(small.astype(int) - b).max() <= 6
