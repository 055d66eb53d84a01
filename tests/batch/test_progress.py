"""Progress: a rich bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from app.batch.progress import LogReporter, QuietReporter, RichReporter, make_reporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_come_every_interval_with_rate_and_eta() -> None:
    clock, lines = Clock(), list[str]()
    reporter = LogReporter(lines.append, every=10, clock=clock)
    reporter.start(total=1_000, position=0, rows_before=0)
    clock.now += 5
    reporter.update(rows=100, position=100)
    assert lines == []
    clock.now += 7
    reporter.update(rows=300, position=300)
    assert lines == ["progress: 300 rows, 30.0% of the input, 25 rows/s, ETA 0:00:28"]
    reporter.stop()  # nothing new since the last line
    assert len(lines) == 1
    clock.now += 1
    reporter.update(rows=310, position=1_000)
    reporter.stop()
    assert lines[-1] == "progress: 310 rows, 100.0% of the input, 24 rows/s, ETA 0:00:00"


def test_a_resumed_run_counts_its_own_rate_and_says_where_it_starts() -> None:
    clock, lines = Clock(), list[str]()
    reporter = LogReporter(lines.append, every=10, clock=clock)
    reporter.start(total=None, position=None, rows_before=5_000)
    clock.now += 10
    reporter.update(rows=5_500, position=None)
    assert lines == ["resuming after 5,000 rows", "progress: 5,500 rows, 50 rows/s"]


def test_the_display_follows_the_terminal() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    piped = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(make_reporter(quiet=False, console=terminal), RichReporter)
    assert isinstance(make_reporter(quiet=False, console=piped), LogReporter)
    assert isinstance(make_reporter(quiet=True, console=terminal), QuietReporter)


def test_the_rich_bar_shows_rows_rate_and_eta() -> None:
    out = io.StringIO()
    reporter = RichReporter(Console(file=out, force_terminal=True, width=160))
    reporter.start(total=2_000, position=0, rows_before=0)
    reporter.update(rows=40, position=1_000)
    reporter.stop()
    shown = out.getvalue()
    assert "50%" in shown and "40 rows" in shown and "rows/s" in shown and "ETA" in shown
