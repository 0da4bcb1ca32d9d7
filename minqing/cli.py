"""The ``minqing`` command: everything that is not a page.

    minqing db upgrade [--url URL]           create or migrate the schema (an empty store also
                                             gets its first account, admin, with a one-time
                                             password printed once)
    minqing demo [--scale full|small] [--seed N] [--as-of YYYY-MM-DD] [--replace] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from minqing.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minqing", description="Minqing (民情) command line")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="create or migrate the schema to the latest revision")
    up.add_argument("--url", help="database URL (default: MINQING_DATABASE_URL or the SQLite file)")
    up.add_argument("--revision", default="head")

    demo = sub.add_parser("demo", help="build the synthetic demo district (示例数据)")
    demo.add_argument("--scale", choices=["full", "small"], default="full")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                      help="the day the two years of records end (default: today)")
    demo.add_argument("--replace", action="store_true", help="drop existing records first")
    demo.add_argument("--if-absent", action="store_true",
                      help="do nothing when the database already holds data")
    demo.add_argument("--url", help="database URL (default: MINQING_DATABASE_URL or the SQLite file)")
    return parser


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
    return 1


if __name__ == "__main__":
    sys.exit(main())
