"""StopOnSignal: the first signal asks for a stop, a repeat from a launcher is the same request,
a later second Ctrl-C aborts; exit codes follow the shell's 128 + signal number."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from ignite.engine import Engine

from ganzoo.engine.signals import RunInterrupted, StopOnSignal, exit_code


class CountingEngine(Engine):
    def __init__(self) -> None:
        super().__init__(lambda engine, batch: None)
        self.terminations = 0

    def terminate(self, skip_completed: bool = False) -> None:
        self.terminations += 1


def test_exit_codes_are_128_plus_the_signal():
    """SIGINT gives 130 and SIGTERM 143, as shells report a process stopped by them."""
    assert exit_code(signal.SIGINT) == 130
    assert exit_code(signal.SIGTERM) == 143
    error = RunInterrupted(signal.SIGTERM, Path("runs/x/1"), 17)
    assert error.exit_code == 143
    assert "iteration 17" in str(error) and "ganzoo train --resume runs/x/1" in str(error)


def test_first_signal_stops_once_and_a_quick_repeat_is_the_same_request():
    """SIGTERM asks the engine to stop once; the same signal again a moment later (a launcher
    forwarding it) neither stops twice nor aborts."""
    engine = CountingEngine()
    stopper = StopOnSignal(engine)
    stopper._handle(signal.SIGTERM, None)
    stopper._handle(signal.SIGTERM, None)
    stopper._handle(signal.SIGINT, None)
    assert engine.terminations == 1
    assert stopper.received == signal.SIGTERM


def test_a_second_ctrl_c_later_aborts():
    """A Ctrl-C more than the grace period after the first raises KeyboardInterrupt at once."""
    stopper = StopOnSignal(CountingEngine())
    stopper._handle(signal.SIGINT, None)
    stopper._first_at -= 5.0
    with pytest.raises(KeyboardInterrupt):
        stopper._handle(signal.SIGINT, None)


def test_handlers_installed_only_inside_the_block():
    """Inside the with-block SIGTERM goes to the stopper; afterwards the old handler is back."""
    before = signal.getsignal(signal.SIGTERM)
    stopper = StopOnSignal(CountingEngine())
    with stopper:
        assert signal.getsignal(signal.SIGTERM) == stopper._handle
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_quick_second_ctrl_c_says_it_is_the_same_request(caplog):
    """A second Ctrl-C within the grace period is not ignored silently: a warning says the stop
    is still on its way and that a later Ctrl-C aborts."""
    stopper = StopOnSignal(CountingEngine())
    stopper._handle(signal.SIGINT, None)
    caplog.clear()
    with caplog.at_level("WARNING"):
        stopper._handle(signal.SIGINT, None)
    assert "received again" in caplog.text and "aborts" in caplog.text


def test_an_abort_inside_the_run_logs_no_empty_error_line(caplog):
    """A KeyboardInterrupt raised inside engine.run reaches the caller without ignite's
    "terminating due to exception:" line (empty for an interrupt), which it logs otherwise."""

    def step(engine, batch):
        raise KeyboardInterrupt

    engine = Engine(step)
    with caplog.at_level("ERROR"), pytest.raises(KeyboardInterrupt), StopOnSignal(engine):
        engine.run([0, 1], max_epochs=1)
    assert "due to exception" not in caplog.text
    with caplog.at_level("ERROR"), pytest.raises(KeyboardInterrupt):
        Engine(step).run([0, 1], max_epochs=1)  # outside the block ignite's line is back
    assert "due to exception" in caplog.text
