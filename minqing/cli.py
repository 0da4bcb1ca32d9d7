"""The ``minqing`` command: everything that is not a page.

    minqing db upgrade [--url URL]           create or migrate the schema (an empty store also
                                             gets its first account, admin, with a one-time
                                             password printed once)
    minqing demo [--scale full|small] [--seed N] [--as-of YYYY-MM-DD] [--replace] [--url URL]
    minqing calendar import FILE.csv [--url URL]   add or replace years of the working-day calendar
    minqing calendar seed [--replace] [--url URL]  load the chinesecalendar package's years
    minqing calendar list [--url URL]              the years covered and where they came from
    minqing check [--url URL]                      non-zero when something needs an admin
    minqing import grids|households PATH [--dry-run] [--json] [--crs EPSG] [--datum D] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from minqing.settings import load_settings

_URL_HELP = "database URL (default: MINQING_DATABASE_URL or the SQLite file)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description="Minqing (民情) command line")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="create or migrate the schema to the latest revision")
    up.add_argument("--url", help=_URL_HELP)
    up.add_argument("--revision", default="head")

    demo = sub.add_parser("demo", help="build the synthetic demo district (示例数据)")
    demo.add_argument("--scale", choices=["full", "small"], default="full")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                      help="the day the two years of records end (default: today)")
    demo.add_argument("--replace", action="store_true", help="drop existing records first")
    demo.add_argument("--if-absent", action="store_true",
                      help="do nothing when the database already holds data")
    demo.add_argument("--url", help=_URL_HELP)

    calendar = sub.add_parser("calendar", help="the working-day calendar (holidays, 调休)")
    cal_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    imp = cal_sub.add_parser("import", help="load a CSV of date,kind,name rows (kind: holiday or "
                                            "workday), replacing the years it lists")
    imp.add_argument("file")
    seed = cal_sub.add_parser("seed", help="load the chinesecalendar package's years")
    seed.add_argument("--replace", action="store_true", help="also reload years already there")
    cal_sub.add_parser("list", help="the years covered and where they came from")
    for command in cal_sub.choices.values():
        command.add_argument("--url", help=_URL_HELP)

    check = sub.add_parser("check", help="exit non-zero when the calendar misses a year in use")
    check.add_argument("--url", help=_URL_HELP)

    from minqing.import_cli import add_import_parser

    add_import_parser(sub)
    return parser


def _calendar(args, url: str) -> int:
    from minqing import workcalendar
    from minqing.errors import InputError
    from minqing.store import get_engine

    engine = get_engine(url)
    if args.calendar_command == "import":
        try:
            years = workcalendar.import_csv(engine, args.file)
        except InputError as exc:
            print(f"minqing calendar import: {exc.message()}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"minqing calendar import: {exc}", file=sys.stderr)
            return 2
        print(f"calendar years loaded: {', '.join(map(str, years))}")
        return 0
    if args.calendar_command == "seed":
        years = workcalendar.seed(engine, replace=args.replace)
        print(f"calendar years loaded: {', '.join(map(str, years)) or 'none (all present)'}")
        return 0
    for year, source in workcalendar.covered_years(engine):
        print(f"{year}\t{source}")
    return 0


def _check(url: str) -> int:
    from minqing import workcalendar
    from minqing.i18n import t
    from minqing.store import get_engine

    missing = workcalendar.gaps(get_engine(url))
    if missing:
        years = ", ".join(map(str, missing))
        print(f"minqing check: {t('calendar.gap', years=years)}", file=sys.stderr)
        return 1
    print("minqing check: ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = args.url or load_settings().database_url
    if args.command == "db":
        from minqing.accounts import ensure_initial_admin
        from minqing.store import get_engine, upgrade

        upgrade(url, args.revision)
        print(f"schema at {args.revision}: {url}")
        if args.revision == "head":
            password = ensure_initial_admin(get_engine(url))
            if password:
                print(f"created the first account: admin / {password}\n"
                      "(sign in with it once: you will be asked to choose a new password)")
        return 0
    if args.command == "demo":
        from minqing.demo import DemoExistsError, build
        from minqing.registry import has_data
        from minqing.store import get_engine, upgrade

        if args.if_absent:
            upgrade(url)
            if has_data(get_engine(url)):
                print(f"demo data already present: {url}")
                return 0
        try:
            summary = build(url, scale=args.scale, seed=args.seed, as_of=args.as_of,
                            replace=args.replace, progress=True)
        except DemoExistsError as exc:
            print(f"minqing demo: {exc}", file=sys.stderr)
            return 2
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
        return 0
    if args.command == "calendar":
        return _calendar(args, url)
    if args.command == "check":
        return _check(url)
    if args.command == "import":
        from minqing.import_cli import run

        return run(args, url)
    return 1


if __name__ == "__main__":
    sys.exit(main())
