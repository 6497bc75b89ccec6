from __future__ import annotations

import pytest
import torch

from tests.cameraclip.clips import make_clips


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    """CameraCLIP tests share small CPUs: one torch thread keeps them predictable."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def clip_data(tmp_path_factory):
    """14 tiny labelled clips (7 movements × 2) in the simulator's labels.jsonl format."""
    folder = tmp_path_factory.mktemp("cameraclip_data")
    make_clips(folder, per_move=2, seed=0)
    return folder
