from __future__ import annotations

import pytest

from cinestudio.store import open_workspace
from tests.jobs.helpers import check_no_leaks, child_pids, make_tiny_set


@pytest.fixture(autouse=True)
def _no_leaked_workers():
    """Fail any test that leaves a worker process or a job thread running."""
    before = child_pids()
    yield
    leaks = check_no_leaks(before)
    assert not leaks, f"leaked: {', '.join(leaks)}"


@pytest.fixture(scope="session")
def tiny_set(tmp_path_factory):
    return make_tiny_set(tmp_path_factory.mktemp("tiny_set"))


@pytest.fixture
def store(tmp_path):
    with open_workspace(tmp_path / "ws") as ws:
        yield ws
