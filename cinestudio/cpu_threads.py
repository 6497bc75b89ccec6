"""How many CPU threads a training loop runs torch on: the count that runs its steps fastest now.

No torch here: the loop passes ``torch.set_num_threads`` in, so any layer may use it.

Why not a fixed count: on an idle 2-core machine, 2 torch threads run a CameraCLIP step 1.55× as
fast as 1 (0.21 s against 0.33 s), but as soon as another process takes a core, the 2-thread pool
waits at every operation for whichever thread the OS has descheduled, and a step takes 2.5–4 s:
12–18× slower than 1 thread (measured, December 2026). `ThreadGovernor` times a few steps on each
count, keeps the fastest, and tries again from time to time, or at once when steps slow down.
A failed try costs a step or two: it is abandoned as soon as it is clearly slower.

A process that held the other core while a trial ran leaves no trace in the one thread's step
times (it ran on its own core), so the governor also watches the machine's idle CPU time (Linux):
once a core sits idle beside a run on fewer threads, it tries again at once.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence


def _affinity() -> set[int] | None:
    """The CPUs this process may run on, where the OS says (its affinity mask)."""
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return None


def machine_idle_seconds() -> float | None:
    """CPU-seconds the CPUs this process may run on have spent idle (or waiting on I/O) since boot,
    summed over them; None where the OS does not say (only Linux's /proc/stat is read)."""
    mine = _affinity()
    try:
        total, seen = 0, False
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                fields = line.split()
                if not fields or not fields[0].startswith("cpu") or not fields[0][3:].isdigit():
                    continue
                if mine is None or int(fields[0][3:]) in mine:
                    total += int(fields[4]) + int(fields[5])
                    seen = True
        return total / os.sysconf("SC_CLK_TCK") if seen else None
    except (OSError, ValueError, IndexError):
        return None


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    mine = _affinity()
    return max(1, len(mine) if mine is not None else os.cpu_count() or 1)


class ThreadGovernor:
    """Chooses among thread counts by timing steps. Call `begin_step()` and `end_step()` around
    every step's work (or `step_done(seconds)`); the governor calls `set_threads` when it changes
    the count. With one candidate it only sets it.

    - A *trial* times `trial_steps` steps on each candidate (the first step after a switch is not
      timed; the count in use is timed by its last steps) and keeps the one with the lowest median
      step time. A candidate is dropped early when one of its steps takes `abandon_at_once`× the best
      median so far, or the median of two or more takes `abandon`×.
    - Then it runs `period` steps on the choice. A trial that kept the same count doubles the next
      period (up to `max_period`); one that changed it starts again from `period`, and so does the
      first trial: the count it starts from was not chosen, so keeping it says nothing.
    - When the median of the last `trial_steps` steps grows to `slowdown`× the chosen count's
      median, a trial starts at once (another process took a core, or the work per step changed).
    - With `idle_seconds` (the machine's idle CPU-seconds, `machine_idle_seconds`): when, over the
      last `trial_steps` steps, at least `idle_cores` of a core per unused candidate thread sat
      idle beside a count below the largest, a trial starts at once — the process that made the
      trial choose fewer threads may have gone. Once per period, and if fewer threads still win,
      the period goes on as if the try had not been made.
    """

    def __init__(self, candidates: Sequence[int], set_threads: Callable[[int], None], *,
                 clock: Callable[[], float] = time.perf_counter, trial_steps: int = 6, period: int = 300,
                 max_period: int = 2400, slowdown: float = 1.6, abandon: float = 1.3,
                 abandon_at_once: float = 2.0, idle_seconds: Callable[[], float | None] | None = None,
                 idle_cores: float = 0.6):
        counts = sorted({int(c) for c in candidates if int(c) >= 1})
        if not counts:
            raise ValueError("need at least one thread count ≥ 1")
        self.candidates = counts
        self._set = set_threads
        self._clock = clock
        self._began: float | None = None
        self.trial_steps = max(2, trial_steps)
        self.base_period = self.period = max(1, period)
        self.max_period = max(self.base_period, max_period)
        self.slowdown = slowdown
        self._idle_seconds = idle_seconds
        self.idle_cores = idle_cores
        self._idle_mark: tuple[float, float] | None = None  # (clock, idle CPU-seconds) of the window's start
        self._idle_tried = False  # an idle core already made this period's choice be tried again
        self._resume_at: int | None = None  # steps left of the period an idle core's try interrupted
        self.abandon = abandon
        self.abandon_at_once = abandon_at_once
        self.threads = counts[0]
        self.trials = 0
        self._recent: deque[float] = deque(maxlen=self.trial_steps)
        self._baseline = 0.0
        self._until_trial = 0
        self._trial: list[int] | None = None  # candidates still to time in the running trial
        self._incumbent = self.threads  # the count in use when the trial began
        self._timed: dict[int, float] = {}
        self._samples: list[float] = []
        self._skip = False
        self._set(self.threads)
        if len(counts) > 1:
            self._start_trial()

    def begin_step(self) -> None:
        """Mark the start of a step's work (what `end_step` times: not checkpoints or previews)."""
        self._began = self._clock()

    def end_step(self) -> None:
        if self._began is not None:
            self.step_done(self._clock() - self._began)
            self._began = None

    # -- trial ---------------------------------------------------------------------------------
    def _switch(self, threads: int) -> None:
        self._skip = threads != self.threads  # the first step after a switch warms the pool up
        if self._skip:
            self.threads = threads
            self._set(threads)
        self._samples = []

    def _start_trial(self) -> None:
        self.trials += 1
        self._incumbent = self.threads
        self._timed = {}
        others = [c for c in self.candidates if c != self.threads]
        if len(self._recent) == self._recent.maxlen:  # the current count's last steps are its timing
            self._timed[self.threads] = statistics.median(self._recent)
            self._trial = others
        else:
            self._trial = [self.threads] + others
        self._switch(self._trial[0])

    def _finish_trial(self) -> None:
        best = min(self._timed, key=self._timed.get)
        kept = best == self._incumbent and self.trials > 1
        self._baseline = self._timed[best]
        if kept and self._resume_at is not None:  # an idle core's extra try failed: the period goes on
            self._until_trial = self._resume_at
        else:
            self.period = min(self.max_period, self.period * 2) if kept else self.base_period
            self._until_trial = self.period
        self._resume_at = None
        self._trial = None
        self._recent.clear()
        self._idle_tried = self._idle_tried and kept
        self._switch(best)
        self._idle_mark = self._idle_now()

    def _idle_now(self) -> tuple[float, float] | None:
        idle = self._idle_seconds() if self._idle_seconds is not None else None
        return None if idle is None else (self._clock(), idle)

    def _core_left_idle(self) -> bool:
        """Whether, since the window's start, a core per thread not used sat idle (and start a new
        window); False without `idle_seconds`, on the largest count, or once tried this period."""
        spare = self.candidates[-1] - self.threads
        if spare <= 0 or self._idle_tried or self._idle_mark is None:
            return False
        now = self._idle_now()
        if now is None:
            return False
        (t0, idle0), (t1, idle1) = self._idle_mark, now
        self._idle_mark = now
        if t1 - t0 <= 0:
            return False
        if (idle1 - idle0) / (t1 - t0) >= self.idle_cores * spare:
            self._idle_tried = True
            return True
        return False

    def step_done(self, seconds: float) -> None:
        """Record one step's wall time (seconds)."""
        if self._skip:
            self._skip = False
            return
        if self._trial is not None:
            self._samples.append(seconds)
            best = min(self._timed.values(), default=None)
            current = self._trial[0]
            if best is not None and (seconds > self.abandon_at_once * best or (
                    len(self._samples) >= 2 and statistics.median(self._samples) > self.abandon * best)):
                self._timed[current] = statistics.median(self._samples)  # clearly slower: stop timing it
            elif len(self._samples) >= self.trial_steps:
                self._timed[current] = statistics.median(self._samples)
            else:
                return
            self._trial.pop(0)
            if self._trial:
                self._switch(self._trial[0])
            else:
                self._finish_trial()
            return
        if len(self.candidates) == 1:
            return
        self._recent.append(seconds)
        self._until_trial -= 1
        slowed = (len(self._recent) == self._recent.maxlen
                  and statistics.median(self._recent) > self.slowdown * self._baseline)
        if self._until_trial <= 0 or slowed:
            if slowed:
                self.period = self.base_period
            else:
                self._idle_tried = False  # a new period: an idle core may call a trial again
            self._start_trial()
        elif self._until_trial % self.trial_steps == 0 and self._core_left_idle():
            self._resume_at = self._until_trial
            self._start_trial()


def training_threads(threads: int | None, on_cpu: bool, set_threads: Callable[[int], None],
                     get_threads: Callable[[], int]) -> ThreadGovernor:
    """The governor of a training loop: `threads` when the user fixed it; on CPU, 1 or all usable
    CPUs, whichever runs steps faster; on a GPU, the count as it is (it only feeds the GPU)."""
    if threads:
        return ThreadGovernor((int(threads),), set_threads)
    if on_cpu:
        return ThreadGovernor((1, usable_cpus()), set_threads, idle_seconds=machine_idle_seconds)
    return ThreadGovernor((get_threads(),), set_threads)
