"""A job kind for tests: a use-case that never looks at should_stop (loaded by workers through
CINESTUDIO_JOB_KINDS=tests.jobs.stuck_kind)."""

from __future__ import annotations

import time

from cinestudio.jobs.kinds import JobKind, register


def run(ctx):
    for step in range(1, 10_000):
        ctx.progress(step, 10_000, "ignoring every stop request", phase="train")
        time.sleep(0.05)
    return {}


STUCK = register(JobKind(name="stuck", title="Stuck", device_class="cpu", entry=f"{__name__}:run",
                         validate=lambda config, where: config))
