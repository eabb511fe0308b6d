"""The `yardstick` command: thin subcommands over library functions, one error handler."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

# Telemetry off before any of these libraries is imported.
for _key, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_key, _value)

from ingestion.errors import find_domain_error
from yardstick.publish import default_warehouse
from yardstick.refresh import refresh


def _demo(args: argparse.Namespace) -> None:
    from yardstick.demo import run_demo
    from yardstick.report import render
    from yardstick.summary import print_summary

    warehouse = default_warehouse()
    run_demo(warehouse, teams=args.teams, weeks=args.weeks, seed=args.seed, today=args.today)
    print_summary(warehouse)
    print(f"Report: {render(warehouse, Path('report'))}")


def _report(args: argparse.Namespace) -> None:
    from yardstick.report import render
    from yardstick.report_ladder import Tracking

    if bool(args.track) != bool(args.write_key):
        raise ValueError("--track and --write-key go together: the collector's URL and a write key it accepts")
    tracking = Tracking(args.track, args.write_key) if args.track else None
    print(f"Report: {render(default_warehouse(), Path(args.output), tracking)}")


def _ingest(args: argparse.Namespace) -> None:
    result = refresh(default_warehouse(), sources=args.source, build=False, full_refresh=args.full_refresh)
    for table, rows in sorted(result.rows_loaded.items()):
        print(f"{table}: {rows} rows")


def _build(args: argparse.Namespace) -> None:
    from yardstick.summary import print_summary

    warehouse = default_warehouse()
    refresh(warehouse, ingest=False)
    print_summary(warehouse)


def _nightly(args: argparse.Namespace) -> None:
    from yardstick.nightly import nightly
    from yardstick.summary import print_summary

    warehouse = default_warehouse()
    result = nightly(warehouse, full_refresh=args.full_refresh)
    print_summary(warehouse)
    print(f"run {result.run_id}: published version {result.version}"
          + (f", {len(result.postgres_tables)} marts copied to PostgreSQL" if result.postgres_tables else ""))


def _status(args: argparse.Namespace) -> None:
    from yardstick.status import print_status

    print_status(default_warehouse(), limit=args.runs)


def _publish_postgres(args: argparse.Namespace) -> None:
    from ingestion.errors import YardstickError
    from yardstick.nightly import configured_postgres_url
    from yardstick.postgres import publish_postgres

    url = args.url or configured_postgres_url()
    if not url:
        raise YardstickError("set YARDSTICK_POSTGRES_URL (or [postgres] url in .dlt/secrets.toml)")
    tables = publish_postgres(default_warehouse(), url, reader=args.reader)
    print(f"copied {len(tables)} marts into schema marts: {', '.join(tables)}")


def _docs(args: argparse.Namespace) -> None:
    from yardstick.docs import generate_docs

    print(f"dbt docs written to {generate_docs(default_warehouse())}")


def _collect(args: argparse.Namespace) -> None:
    from pathlib import Path

    import dlt

    from ingestion.errors import YardstickError
    from yardstick.collect import serve

    keys = dlt.secrets.get("collector.write_key") or dlt.config.get("collector.write_key")
    if not keys:
        raise YardstickError("set a write key in COLLECTOR__WRITE_KEY or .dlt/secrets.toml [collector]")
    directory = Path(args.dir or dlt.config.get("collector.directory") or "events")
    serve(directory, [k.strip() for k in str(keys).split(",")], host=args.host, port=args.port)


def _metrics_list(args: argparse.Namespace) -> None:
    from yardstick.metrics import list_metrics

    rows = [(m.name, m.better or "", m.unit or "", m.defined_in, m.description) for m in list_metrics()]
    header = ("metric", "better", "unit", "defined_in", "description")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


def _split(values: Sequence[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _metrics_query(args: argparse.Namespace) -> None:
    from yardstick.metrics import query

    sql, frame = query(default_warehouse(), _split(args.metrics), _split(args.group_by), args.where or [],
                       args.limit, _split(args.order))
    if args.explain:
        print(sql)
    if args.csv:
        frame.to_csv(args.csv, index=False)
        print(f"{len(frame)} rows written to {args.csv}")
    else:
        print(frame.to_string(index=False) if len(frame) else "(no rows)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="yardstick", description="Engineering-metrics warehouse.")
    root.add_argument("--verbose", action="store_true", help="show the traceback on failure")
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate, serve, ingest, build and publish a demo organisation")
    demo.add_argument("--teams", type=int, default=3)
    demo.add_argument("--weeks", type=int, default=12)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--today", type=date.fromisoformat, default=None,
                      help="the day the demo's data ends (YYYY-MM-DD; default: YARDSTICK_TODAY or today)")
    demo.set_defaults(func=_demo)

    ingest = commands.add_parser("ingest", help="load configured sources into the raw layer and publish")
    ingest.add_argument("--source", action="append", help="only this source (repeatable)")
    ingest.add_argument("--full-refresh", action="store_true", help="reload from start_date")
    ingest.set_defaults(func=_ingest)

    build = commands.add_parser("build", help="build and test the models on the published raw data, then publish")
    build.set_defaults(func=_build)

    nightly = commands.add_parser("nightly", help="ingest every configured source, build, check and publish")
    nightly.add_argument("--full-refresh", action="store_true",
                         help="reload from start_date and rebuild every model from scratch (not incrementally)")
    nightly.set_defaults(func=_nightly)

    status = commands.add_parser("status", help="last nightly runs and data freshness per source")
    status.add_argument("--runs", type=int, default=10, help="how many runs to show")
    status.set_defaults(func=_status)

    postgres = commands.add_parser("publish-postgres", help="copy the public marts into PostgreSQL for BI tools")
    postgres.add_argument("--url", help="PostgreSQL URL (default: YARDSTICK_POSTGRES_URL)")
    postgres.add_argument("--reader", help="read-only role granted SELECT (default: YARDSTICK_POSTGRES_READER "
                          "or yardstick_reader)")
    postgres.set_defaults(func=_publish_postgres)

    report = commands.add_parser("report", help="write the HTML report (team-level charts) of the warehouse")
    report.add_argument("--output", default="report", help="directory for index.html (default: ./report)")
    report.add_argument("--track", metavar="URL", help="send a view of each team's section to this collector "
                        "(`yardstick collect`, Segment API) as the report is read")
    report.add_argument("--write-key", metavar="KEY", help="a write key the --track collector accepts")
    report.set_defaults(func=_report)

    docs = commands.add_parser("docs", help="generate the dbt docs site (offline) into target/")
    docs.set_defaults(func=_docs)

    metrics = commands.add_parser("metrics", help="the semantic layer: list metrics, query them (read-only)")
    metrics_commands = metrics.add_subparsers(dest="metrics_command", required=True)
    metrics_list = metrics_commands.add_parser("list", help="every metric: description, direction, unit, file")
    metrics_list.set_defaults(func=_metrics_list)
    metrics_query = metrics_commands.add_parser(
        "query", help="query metrics from the published warehouse through MetricFlow, read-only")
    metrics_query.add_argument("--metrics", action="append", required=True, help="metric names, comma-separated")
    metrics_query.add_argument("--group-by", action="append",
                               help="dimensions or entities, comma-separated (e.g. team,metric_time__week)")
    metrics_query.add_argument("--where", action="append",
                               help="a MetricFlow filter, e.g. \"{{ Dimension('change__repository') }} = 'acme/x'\"")
    metrics_query.add_argument("--order", action="append", help="order by these (prefix - for descending)")
    metrics_query.add_argument("--limit", type=int, help="at most this many rows")
    metrics_query.add_argument("--csv", help="write the rows to this CSV file instead of printing them")
    metrics_query.add_argument("--explain", action="store_true", help="print the SQL MetricFlow generated")
    metrics_query.set_defaults(func=_metrics_query)

    collect = commands.add_parser("collect", help="receive Segment-style events over HTTP into NDJSON files")
    collect.add_argument("--host", default="127.0.0.1")
    collect.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    collect.add_argument("--dir", help="where the NDJSON files go (default: collector.directory or ./events)")
    collect.set_defaults(func=_collect)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.func
    try:
        handler(args)
    except KeyboardInterrupt:
        print("yardstick: interrupted; the published warehouse is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # one handler: a clear one-line reason, traceback only with --verbose
        if args.verbose:
            raise
        domain = find_domain_error(exc)
        reason = str(domain) if domain else f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        print(f"yardstick {args.command} failed: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

