"""Progress of a batch run: a rich bar on a terminal, periodic log lines otherwise.

Progress is measured in the input's own units: bytes read for CSV and JSONL (the row count
is unknown until the end; the file size gives the total and hence the ETA), rows for
Parquet (its footer knows the count). Rows per second counts rows of this run only, so a
resumed run shows its own speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.text import plural

LOG_EVERY_SECONDS = 10.0


class Reporter(Protocol):
    def start(self, *, total: int | None, position: int | None, rows_before: int) -> None:
        """Begin; `rows_before` rows were done by an earlier run (resume)."""

    def update(self, *, rows: int, position: int | None) -> None:
        """`rows` rows done in all (this run and earlier ones); input read to `position`."""

    def stop(self) -> None: ...


class QuietReporter:
    def start(self, *, total: int | None, position: int | None, rows_before: int) -> None:
        pass

    def update(self, *, rows: int, position: int | None) -> None:
        pass

    def stop(self) -> None:
        pass


class _Rate:
    """Rows per second and time left, from this run's rows and input position."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._started = clock()
        self._rows_before = 0
        self._position_before = 0
        self.total: int | None = None

    def begin(self, total: int | None, position: int | None, rows_before: int) -> None:
        self._started = self._clock()
        self._rows_before = rows_before
        self._position_before = position or 0
        self.total = total

    def rows_per_second(self, rows: int) -> float:
        elapsed = self._clock() - self._started
        return (rows - self._rows_before) / elapsed if elapsed > 0 else 0.0

    def seconds_left(self, position: int | None) -> float | None:
        if self.total is None or position is None:
            return None
        elapsed = self._clock() - self._started
        moved = position - self._position_before
        if moved <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.total - position) * elapsed / moved)


class LogReporter:
    """A plain line on stderr every `every` seconds (and at the end): for logs and pipes."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        every: float = LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._every = every
        self._clock = clock
        self._rate = _Rate(clock)
        self._last = clock()
        self._rows = 0
        self._position: int | None = None
        self._logged_rows = -1

    def start(self, *, total: int | None, position: int | None, rows_before: int) -> None:
        self._rate.begin(total, position, rows_before)
        self._last = self._clock()
        self._rows = self._logged_rows = rows_before
        if rows_before:
            self._emit(f"resuming after {plural(rows_before, 'row')}")

    def update(self, *, rows: int, position: int | None) -> None:
        self._rows, self._position = rows, position
        if self._clock() - self._last >= self._every:
            self._log()

    def _log(self) -> None:
        self._last = self._clock()
        self._logged_rows = self._rows
        parts = [plural(self._rows, "row")]
        total = self._rate.total
        if total and self._position is not None:
            parts.append(f"{min(1.0, self._position / total):.1%} of the input")
        parts.append(f"{self._rate.rows_per_second(self._rows):,.0f} rows/s")
        left = self._rate.seconds_left(self._position)
        if left is not None:
            parts.append(f"ETA {timedelta(seconds=round(left))}")
        self._emit("progress: " + ", ".join(parts))

    def stop(self) -> None:
        if self._rows != self._logged_rows:
            self._log()


class RichReporter:
    """A live bar with percentage, rows, rows/s, elapsed time and ETA."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("scoring"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._rate = _Rate(time.monotonic)
        self._task: TaskID | None = None

    def start(self, *, total: int | None, position: int | None, rows_before: int) -> None:
        self._rate.begin(total, position, rows_before)
        self._progress.start()
        self._task = self._progress.add_task(
            "scoring", total=total, completed=position or 0, rows=rows_before, rate=0.0
        )

    def update(self, *, rows: int, position: int | None) -> None:
        if self._task is None:
            return
        self._progress.update(
            self._task,
            completed=position if position is not None else None,
            rows=rows,
            rate=self._rate.rows_per_second(rows),
        )

    def stop(self) -> None:
        self._progress.stop()


def make_reporter(*, quiet: bool, console: Console) -> Reporter:
    """Quiet, a rich bar when stderr is a terminal, log lines when it is not."""
    if quiet:
        return QuietReporter()
    if console.is_terminal:
        return RichReporter(console)
    return LogReporter(lambda line: console.print(line, highlight=False, soft_wrap=True))
