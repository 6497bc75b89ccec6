"""Small test videos made in milliseconds, for every test module of the project.

Every frame of `make_moving_video` carries its own index as a row of black/white blocks at the
top (`frame_number` reads it back, robust to lossy compression), above a textured background
that moves (so inter-frame codecs really predict across frames) and a bright square that moves
left to right. Frame identity is therefore checkable after any decode, seek or resize.

    from tests.helpers.videos import make_moving_video, frame_number, make_corrupt_files
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

BARCODE_BITS = 10  # up to 1024 distinct frame numbers


def _barcode_layout(width: int, height: int) -> tuple[list[int], int]:
    """Left edges of the BARCODE_BITS blocks (plus the right end) and the code row's height;
    proportional to the frame size, so a resized frame keeps the same layout."""
    if width < 3 * BARCODE_BITS or height < 12:
        raise ValueError(f"frames of {width}x{height} are too small for the frame-number code "
                         f"(need ≥ {3 * BARCODE_BITS}x12)")
    edges = [round(b * width / BARCODE_BITS) for b in range(BARCODE_BITS + 1)]
    return edges, max(4, round(height / 5))


def moving_frame(index: int, size: tuple[int, int] = (64, 48), total: int = 30,
                 seed: int = 0) -> np.ndarray:
    """Frame `index` of the moving test pattern, an RGB uint8 array of `size` = (width, height)."""
    width, height = size
    edges, code_h = _barcode_layout(width, height)
    rng = np.random.default_rng(seed)
    # a smooth random texture (low-pass noise), scrolled by 2 px per frame
    tex = rng.integers(0, 256, size=(height // 4 + 2, width // 4 + 2, 3), dtype=np.uint8)
    tex = cv2.resize(tex, (width + 8 * 4, height + 8 * 4), interpolation=cv2.INTER_LINEAR)
    shift = (2 * index) % (tex.shape[1] - width)
    frame = np.ascontiguousarray(tex[: height, shift: shift + width])
    # a bright square moving across
    sq = max(4, height // 4)
    x = int((width - sq) * (index % max(total, 1)) / max(total - 1, 1))
    y = code_h + (height - code_h - sq) // 2
    frame[y: y + sq, x: x + sq] = (255, 230, 40)
    # the frame number, one block per bit, most significant first
    frame[:code_h] = 128
    for bit in range(BARCODE_BITS):
        on = (index >> (BARCODE_BITS - 1 - bit)) & 1
        frame[1: code_h - 1, edges[bit] + 1: edges[bit + 1] - 1] = 255 if on else 0
    return frame


def frame_number(frame: np.ndarray) -> int:
    """The index drawn into a frame by `moving_frame` (works on resized frames too)."""
    height, width = frame.shape[:2]
    grey = frame[:, :, :3].mean(axis=2) if frame.ndim == 3 else frame
    value = 0
    for bit in range(BARCODE_BITS):
        # the middle of each block, in relative coordinates (valid at any size)
        x0 = int((bit + 0.3) * width / BARCODE_BITS)
        x1 = max(x0 + 1, int((bit + 0.7) * width / BARCODE_BITS))
        y0 = int(0.25 * height / 5)
        y1 = max(y0 + 1, int(0.75 * height / 5))
        value = (value << 1) | int(grey[y0:y1, x0:x1].mean() > 128)
    return value


def moving_frames(frames: int = 30, size: tuple[int, int] = (64, 48), seed: int = 0) -> list[np.ndarray]:
    return [moving_frame(i, size, frames, seed) for i in range(frames)]


_OPENCV_FOURCC = {"mjpeg": "MJPG", "mp4v": "mp4v", "xvid": "XVID"}


def make_moving_video(path: str | Path, frames: int = 30, size: tuple[int, int] = (64, 48), fps: float = 10,
                      codec: str = "h264", gop: int | None = None, seed: int = 0,
                      **encode_options) -> Path:
    """Write the moving test pattern (`frames` frames of `size` = (width, height)) to `path`.

    codec ``"h264"`` goes through `cinestudio.media.encode.write_mp4` (PyAV/libx264; `gop`
    sets the keyframe interval, extra options such as ``bframes=0`` or ``faststart=True`` are
    passed on); ``"mjpeg"``, ``"mp4v"`` and ``"xvid"`` go through OpenCV's VideoWriter (the
    container follows the suffix of `path`, e.g. ``.avi``; `gop` is ignored there). Any other
    name is encoded with PyAV directly (e.g. ``"cinepak"``, ``"mpeg4"``, ``"ffv1"``) with `gop`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = (moving_frame(i, size, frames, seed) for i in range(frames))
    if codec == "h264":
        from cinestudio.media.encode import write_mp4

        return write_mp4(path, images, fps=fps, gop=gop, **encode_options)
    if codec in _OPENCV_FOURCC:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*_OPENCV_FOURCC[codec]), fps, size)
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write {codec} to {path.name}")
        try:
            for img in images:
                writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
        return path
    import av

    from cinestudio.media.encode import fps_fraction

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps_fraction(fps))
        stream.width, stream.height = size
        formats = [f.name for f in (stream.codec_context.codec.video_formats or [])]
        stream.pix_fmt = "yuv420p" if "yuv420p" in formats or not formats else formats[0]
        if gop is not None:
            stream.codec_context.gop_size = gop
        for i, img in enumerate(images):
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


# --------------------------------------------------------------------------- hand-made AVI files

def write_mjpeg_avi(path: str | Path, images: list[np.ndarray | None], fps: int = 10,
                    claimed_frames: int | None = None, index: bool = True) -> Path:
    """A minimal MJPEG AVI written by hand, for files whose headers lie.

    `images` may contain None: an empty ``00dc`` chunk (a "dropped frame" — counts in the
    headers, decodes to nothing). `claimed_frames` overrides the frame count written into the
    ``avih``/``strh`` headers (default: the number of chunks). `index=False` omits ``idx1``.
    """
    path = Path(path)
    chunks = []
    width = height = None
    for img in images:
        if img is None:
            chunks.append(b"")
            continue
        height, width = img.shape[:2]
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        chunks.append(buf.tobytes())
    if width is None:
        raise ValueError("need at least one real image")
    n = len(chunks) if claimed_frames is None else claimed_frames

    def chunk(fourcc: bytes, data: bytes) -> bytes:
        return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")

    def lst(kind: bytes, data: bytes) -> bytes:
        return b"LIST" + struct.pack("<I", len(data) + 4) + kind + data

    max_chunk = max(len(c) for c in chunks)
    avih = struct.pack("<IIIIIIIIII4I", int(1e6 / fps), max_chunk * fps, 0, 0x10 if index else 0, n, 0, 1,
                       max_chunk, width, height, 0, 0, 0, 0)
    strh = struct.pack("<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0, 1, fps, 0, n, max_chunk,
                       0xFFFFFFFF, 0, 0, 0, width, height)
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    hdrl = lst(b"hdrl", chunk(b"avih", avih) + lst(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf)))
    movi_data = b""
    idx = b""
    for data in chunks:
        idx += b"00dc" + struct.pack("<III", 0x10 if data else 0, len(movi_data) + 4, len(data))
        movi_data += chunk(b"00dc", data)
    body = b"AVI " + hdrl + lst(b"movi", movi_data) + (chunk(b"idx1", idx) if index else b"")
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


# ------------------------------------------------------------------------------------ bad inputs

def make_corrupt_files(directory: str | Path) -> dict[str, Path]:
    """The bad inputs every command must refuse with one clear line, plus awkward valid ones.

    Returns name → path for:
      missing        a path that does not exist
      folder         a directory named like a video
      empty          a zero-byte .mp4
      text_mp4       a text file named .mp4
      image          a PNG image (a still, not a video)
      image_as_mp4   a JPEG image renamed .mp4
      no_moov        an MP4 cut in half with its index ('moov', written last) lost: unreadable
      truncated_tail an MP4 with its index first (faststart) whose media data is cut off: the
                     header claims 20 frames, fewer decode
      lying_avi      an MJPEG AVI whose headers claim 40 frames, 12 of which are empty chunks
      truncated_avi  an MJPEG AVI (OpenCV) cut off after ~1/3 of its data: header claims 30
      non_ascii      a valid 12-frame H.264 clip named 'plan séquence 日本.mp4'
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {"missing": d / "missing.mp4"}
    out["folder"] = d / "folder.mp4"
    out["folder"].mkdir(exist_ok=True)
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["text_mp4"] = d / "notes.mp4"
    out["text_mp4"].write_text("This is not a video, just some notes.\n" * 20, encoding="utf-8")
    img = moving_frame(3, (64, 48))
    out["image"] = d / "still.png"
    cv2.imwrite(str(out["image"]), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    out["image_as_mp4"] = d / "still_jpeg.mp4"
    out["image_as_mp4"].write_bytes(cv2.imencode(".jpg", img)[1].tobytes())

    full = make_moving_video(d / "full.mp4", frames=20, gop=5)
    data = full.read_bytes()
    out["no_moov"] = d / "no_moov.mp4"
    out["no_moov"].write_bytes(data[: len(data) // 2])
    full.unlink()

    fast = make_moving_video(d / "fast.mp4", frames=20, gop=5, bframes=0, faststart=True)
    data = fast.read_bytes()
    out["truncated_tail"] = d / "truncated_tail.mp4"
    out["truncated_tail"].write_bytes(data[: int(len(data) * 0.6)])
    fast.unlink()

    frames = moving_frames(28, (64, 48))
    images: list[np.ndarray | None] = []
    for i, f in enumerate(frames):
        images.append(f)
        if i % 7 == 3:
            images.append(None)  # dropped-frame chunk
    out["lying_avi"] = write_mjpeg_avi(d / "lying.avi", images, fps=10, claimed_frames=40)

    avi = make_moving_video(d / "whole.avi", frames=30, codec="mjpeg")
    data = avi.read_bytes()
    out["truncated_avi"] = d / "truncated.avi"
    out["truncated_avi"].write_bytes(data[: len(data) // 3])
    avi.unlink()

    out["non_ascii"] = make_moving_video(d / "plan séquence 日本.mp4", frames=12)
    return out
