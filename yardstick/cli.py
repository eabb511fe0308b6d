"""The `yardstick` command: thin subcommands over library functions, one error handler."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

# Telemetry off before any of these libraries is imported.
for _key, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_key, _value)

from yardstick.errors import find_domain_error
from yardstick.publish import default_warehouse
from yardstick.refresh import refresh


def _demo(args: argparse.Namespace) -> None:
    from yardstick.demo import run_demo
    from yardstick.summary import print_summary

    warehouse = default_warehouse()
    run_demo(warehouse, teams=args.teams, weeks=args.weeks, seed=args.seed)
    print_summary(warehouse)


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
    from yardstick.summary import print_summary

    warehouse = default_warehouse()
    refresh(warehouse, full_refresh=args.full_refresh)
    print_summary(warehouse)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="yardstick", description="Engineering-metrics warehouse.")
    root.add_argument("--verbose", action="store_true", help="show the traceback on failure")
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate, serve, ingest, build and publish a demo organisation")
    demo.add_argument("--teams", type=int, default=3)
    demo.add_argument("--weeks", type=int, default=12)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_demo)

    ingest = commands.add_parser("ingest", help="load configured sources into the raw layer and publish")
    ingest.add_argument("--source", action="append", help="only this source (repeatable)")
    ingest.add_argument("--full-refresh", action="store_true", help="reload from start_date")
    ingest.set_defaults(func=_ingest)

    build = commands.add_parser("build", help="build and test the models on the published raw data, then publish")
    build.set_defaults(func=_build)

    nightly = commands.add_parser("nightly", help="ingest every configured source, build, check and publish")
    nightly.add_argument("--full-refresh", action="store_true", help="reload from start_date")
    nightly.set_defaults(func=_nightly)
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

