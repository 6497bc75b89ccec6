"""Media I/O: frames are numpy uint8 RGB arrays of shape (H, W, 3); no Qt, no database here.

- `probe.probe(path) -> VideoInfo`: frames that really decode (headers are checked, not trusted),
  fps, size, duration, codec.
- `decode.iter_frames / read_frames(path, start=0, end=None, size=None)`: frame-accurate ranges.
- `sampling.uniform_indices(start, end, n)`, `sampling.sample_frames(path, n=8, ...)`: uniform
  sampling by seeking; `sampling.read_frames_at(path, indices)`.
- `thumbnails.thumbnail / save_thumbnail`.
- `encode.write_mp4 / write_gif`: H.264 MP4 and GIF, written atomically.

Frame index i always means the i-th frame, in presentation order, of the frames that decode.
Unreadable input raises `cinestudio.errors.MediaError` (a `UserInputError`).
"""
