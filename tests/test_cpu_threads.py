"""The thread governor picks the faster thread count and leaves it when another process takes a core."""

import pytest

from cinestudio.cpu_threads import ThreadGovernor, machine_idle_seconds, training_threads, usable_cpus

# step seconds measured for CameraCLIP's default model on a 2-core machine (see the module docstring)
IDLE = {1: 0.33, 2: 0.21}
BUSY = {1: 0.40, 2: 4.0}  # another process holds one core


def run(governor, steps, cost, start=0):
    """Feed `steps` step times from cost(threads, step); return the thread count used per step."""
    used = []
    for s in range(start, start + steps):
        used.append(governor.threads)
        governor.step_done(cost(governor.threads, s))
    return used


def make(**kw):
    calls = []
    return ThreadGovernor((1, 2), calls.append, **kw), calls


def test_idle_machine_runs_on_both_cores():
    gov, calls = make()
    used = run(gov, 1000, lambda t, s: IDLE[t])
    assert gov.threads == 2
    assert calls[:2] == [1, 2]
    # the first trial's steps, then 3 per later try (a warm-up step and two that lose)
    assert used.count(1) <= gov.trial_steps + 3 * (gov.trials - 1)
    assert gov.trials <= 4


def test_contention_drops_to_one_thread_within_a_few_steps_and_comes_back():
    gov, _ = make()
    busy = range(500, 3000)
    used = run(gov, 6000, lambda t, s: (BUSY if s in busy else IDLE)[t])
    slow_steps = sum(1 for s, t in enumerate(used) if s in busy and t == 2)
    # the first slow steps until the median notices, then one step per failed try
    assert slow_steps <= 6 + 2 * 10
    assert used[2990] == 1
    assert used[-1] == 2  # contention over: back on both cores after a later try


class Machine:
    """A 2-core machine for the governor: a clock and the idle CPU-seconds that go with its steps;
    `other(step)`: cores another process holds at that step."""

    def __init__(self, cost, other):
        self.cost, self.other, self.now, self.idle = cost, other, 0.0, 0.0

    def run(self, gov, steps):
        used = []
        for s in range(steps):
            used.append(gov.threads)
            seconds = self.cost(gov.threads, s)
            self.now += seconds
            self.idle += max(0, 2 - gov.threads - self.other(s)) * seconds
            gov.step_done(seconds)
        return used


def test_a_core_left_idle_brings_it_back_to_both_cores():
    # another process held the other core during the first trial, then ended: the one thread's
    # steps do not get faster (they ran on their own core), but the machine's idle time shows it
    def cost(t, s):
        return (BUSY if s < 40 else IDLE)[t] if t == 2 else IDLE[1]

    def other(s):
        return 1 if s < 40 else 0

    machine = Machine(cost, other)
    gov = ThreadGovernor((1, 2), lambda n: None, clock=lambda: machine.now, idle_seconds=lambda: machine.idle)
    used = machine.run(gov, 400)
    assert used[20] == 1
    assert used[40 + 3 * gov.trial_steps] == 2
    # without the idle signal it waits for the next scheduled trial
    machine = Machine(cost, other)
    blind = ThreadGovernor((1, 2), lambda n: None, clock=lambda: machine.now)
    assert machine.run(blind, 400)[40 + 3 * gov.trial_steps:250].count(2) == 0


def test_an_idle_core_calls_at_most_one_extra_trial_per_period_when_fewer_threads_win():
    # a machine where two threads are slower even when idle: no flapping on the idle signal
    slow_two = {1: 0.33, 2: 0.6}
    machine = Machine(lambda t, s: slow_two[t], lambda s: 0)
    gov = ThreadGovernor((1, 2), lambda n: None, clock=lambda: machine.now, idle_seconds=lambda: machine.idle)
    used = machine.run(gov, 3000)
    assert used[-500:].count(2) <= 2
    blind = ThreadGovernor((1, 2), lambda n: None)
    run(blind, 3000, lambda t, s: slow_two[t])
    assert gov.trials <= 2 * blind.trials + 1


def test_machine_idle_seconds_grows_or_is_unknown():
    first = machine_idle_seconds()
    if first is None:
        pytest.skip("the OS does not report idle CPU time")
    assert machine_idle_seconds() >= first >= 0


def test_the_first_trial_keeping_the_starting_count_does_not_lengthen_the_period():
    gov, _ = make()
    run(gov, 50, lambda t, s: BUSY[t])
    assert gov.threads == 1 and gov.trials == 1
    assert gov.period == gov.base_period


def test_failed_tries_back_off():
    gov, _ = make()
    run(gov, 200, lambda t, s: IDLE[t])
    trials = gov.trials
    used = run(gov, 20000, lambda t, s: BUSY[t], start=200)
    assert 3 <= gov.trials - trials <= 12  # tries get rarer: period doubles up to max_period
    assert used.count(2) <= 6 + 2 * 12


def test_noisy_steps_do_not_make_it_flap():
    import random

    rnd = random.Random(0)
    gov, calls = make()
    used = run(gov, 5000, lambda t, s: IDLE[t] * rnd.uniform(0.85, 1.15))
    assert used[-2000:].count(2) >= 1990
    assert len(calls) <= 12


def test_more_work_per_step_keeps_the_faster_count():
    # the last part of a run encodes all frames: every step gets slower on both counts alike
    gov, _ = make()
    used = run(gov, 3000, lambda t, s: IDLE[t] * (2.7 if s >= 1500 else 1.0))
    assert used[-1] == 2
    assert used[1500:].count(1) <= 2 * gov.trial_steps


def test_one_candidate_never_switches():
    calls = []
    gov = ThreadGovernor((1,), calls.append)
    run(gov, 500, lambda t, s: 1.0)
    assert calls == [1] and gov.threads == 1 and gov.trials == 0


def test_bad_candidates():
    with pytest.raises(ValueError):
        ThreadGovernor((0,), lambda n: None)


def test_training_threads():
    calls = []
    assert training_threads(None, True, calls.append, lambda: 7).candidates == sorted({1, usable_cpus()})
    fixed = training_threads(3, True, calls.append, lambda: 7)
    assert fixed.candidates == [3] and calls[-1] == 3
    assert training_threads(None, False, calls.append, lambda: 7).candidates == [7]


def test_begin_and_end_step_time_the_work_between_them():
    now = [0.0]
    gov = ThreadGovernor((1, 2), lambda n: None, clock=lambda: now[0])
    for _ in range(40):
        gov.begin_step()
        now[0] += IDLE[gov.threads]
        gov.end_step()
        now[0] += 5.0  # a checkpoint between steps: not part of the step
    assert gov.threads == 2
    gov.end_step()  # without begin_step: nothing to time
