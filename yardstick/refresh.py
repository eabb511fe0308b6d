"""One refresh of the warehouse: ingest → raw gate → dbt build → mart gate → publish, in a work copy of the
private working file. Any failure raises before publish, so both files stay the last good ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from ingestion.errors import YardstickError
from ingestion.pipeline import SOURCES, ensure_raw_tables, ingest_source, missing_settings, quarantined_counts
from yardstick import dbt, quality
from yardstick.publish import publish, work_copy


@dataclass
class Progress:
    """Prints each step as it starts and how long it took; a spinner while it runs."""

    console: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    quiet: bool = False

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.quiet:
            yield
            return
        with self.console.status(f"{label}…"):
            try:
                yield
            except BaseException:
                self.console.print(f"[red]✗[/red] {label}")
                raise
        self.console.print(f"[green]✓[/green] {label} [dim]({time.perf_counter() - started:.1f}s)[/dim]")

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"  [dim]{message}[/dim]")


@dataclass
class RefreshResult:
    warehouse: Path
    rows_loaded: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    stamp: Any = None  # what `before_publish` returned (the nightly: its version number and publish time)
    quarantined: dict[str, int] = field(default_factory=dict)  # records in quarantine per raw table, after the run


def refresh(
    warehouse: Path,
    *,
    sources: Sequence[str] | None = None,
    ingest: bool = True,
    build: bool = True,
    full_refresh: bool = False,
    from_scratch: bool = False,
    vars: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    before_publish: Callable[[Path], Any] | None = None,
    dbt_callbacks: Sequence[Callable[[Any], None]] = (),
) -> RefreshResult:
    """Refresh `warehouse` and publish it atomically; raise a YardstickError naming the failed step.
    `before_publish(work)` runs on the finished work copy just before the rename; what it returns is kept
    in `RefreshResult.stamp`. `dbt_callbacks` receive dbt's events during the build."""
    progress = progress or Progress()
    result = RefreshResult(warehouse)
    unknown = sorted(set(sources or ()) - set(SOURCES))
    if unknown:
        raise YardstickError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    with work_copy(warehouse, from_scratch=from_scratch) as work:
        if ingest:
            for name in sources or list(SOURCES):
                missing = missing_settings(name)
                if missing:
                    result.skipped.append(name)
                    progress.note(f"skipping {name}: not configured (set {', '.join(missing)})")
                    continue
                with progress.step(f"Ingest {name}"):
                    loaded = ingest_source(name, work, full_refresh=full_refresh)
                result.rows_loaded.update(loaded)
                for table, count in loaded.items():
                    if table.endswith("._rejected"):
                        progress.note(f"{name}: {count} record(s) broke their contract and are quarantined in "
                                      f"{table} (yardstick status counts them per table)")
        with progress.step("Check raw data (Great Expectations)"):
            ensure_raw_tables(work)
            quality.enforce("raw", work, quality.RAW_SUITE)
            result.quarantined = quarantined_counts(work)
            for table, count in result.quarantined.items():
                progress.note(f"{table}: {count} record(s) in quarantine (raw_<source>._rejected)")
        if build:
            with progress.step("Build models and run dbt tests"):
                plan = dbt.build(work, vars=vars, callbacks=dbt_callbacks, full_refresh=full_refresh or from_scratch)
            progress.note(plan.summary())
            with progress.step("Check marts (Great Expectations)"):
                quality.enforce("marts", work, quality.MART_SUITE)
        with progress.step(f"Publish {warehouse.name}"):
            if before_publish is not None:  # e.g. the nightly stamps a version row into the work copy
                result.stamp = before_publish(work)
            publish(work, warehouse)
    return result
