"""``minqing import grids PATH`` and ``minqing import households PATH``.

Without ``--dry-run`` the report is printed and, when nothing blocks it, applied in one
transaction. ``--json`` prints the report (and the outcome) as one JSON object on stdout;
progress bars go to stderr. Exit status: 0 done, 2 blocked (a question to answer with
``--crs``, a missing column, an unreadable file), 1 the apply failed and nothing was changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from geo.importing import DATUMS

TEXT_LIMIT = 200  # findings printed in the text report (all of them are in --json)


def add_import_parser(sub) -> None:
    """Add the ``import`` command and its two subcommands to the CLI's subparsers."""
    imp = sub.add_parser("import", help="import grids or households from files (导入)")
    kinds = imp.add_subparsers(dest="import_kind", required=True)
    for kind, what in (("grids", "GeoPackage, zipped Shapefile, GeoJSON or KML"),
                       ("households", "CSV (UTF-8 or GBK) or .xlsx")):
        p = kinds.add_parser(kind, help=f"import {kind} from a {what} file")
        p.add_argument("path", help=what)
        p.add_argument("--dry-run", action="store_true", help="print the report, write nothing")
        p.add_argument("--json", action="store_true", help="print the report as one JSON object")
        p.add_argument("--crs", help="source coordinate system when it cannot be inferred, "
                                     "e.g. EPSG:4549")
        p.add_argument("--datum", choices=DATUMS, default=None,
                       help="coordinates picked on a web map: gcj02 (Gaode) or bd09 (Baidu)")
        p.add_argument("--lang", choices=["zh", "en"], default="zh")
        p.add_argument("--url", help="database URL (default: MINQING_DATABASE_URL or the SQLite file)")


def _progress_bar(enabled: bool, lang: str):
    from tqdm import tqdm

    from minqing.i18n import t

    bar = tqdm(total=100, unit="%", file=sys.stderr, disable=not enabled,
               bar_format="{desc} {bar} {percentage:3.0f}%")

    def update(stage: str, fraction: float) -> None:
        bar.set_description_str(t(f"data.stage.{stage}", lang))
        bar.n = round(100 * fraction)
        bar.refresh()

    return bar, update


def _print_text(report, lang: str) -> None:
    from minqing.i18n import t
    from minqing.importer import findings_frame

    counts = {k: report.counts.get(k, 0) for k in ("new", "updated", "unchanged", "skipped")}
    print(t("data.summary", lang, rows=report.rows, **counts))
    print(t("data.source_info", lang, encoding=report.encoding or "-", crs=report.crs or "-",
            datum=report.datum))
    table = findings_frame(report, lang)
    for rec in table.head(TEXT_LIMIT).itertuples(index=False):
        where = f"{t('data.col.row', lang)} {rec.row}" if rec.row else "-"
        field = f" [{rec.field}]" if rec.field else ""
        print(f"{where}{field} {rec.severity}: {rec.message} -> {rec.action}")
    if len(table) > TEXT_LIMIT:
        print(f"... +{len(table) - TEXT_LIMIT} (--json)")
    if report.moved:
        print(t("data.moved", lang, n=len(report.moved)))
        for move in report.moved[:TEXT_LIMIT]:
            print(f"  {move['household']}: {move['from']} -> {move['to']}")


def run(args: argparse.Namespace, url: str) -> int:
    from minqing.i18n import t
    from minqing.importer import StalePlan, apply
    from minqing.store import get_engine, upgrade

    upgrade(url)
    engine = get_engine(url)
    bar, progress = _progress_bar(sys.stderr.isatty() or not args.json, args.lang)
    try:
        if args.import_kind == "grids":
            from minqing.grid_import import preview_grids

            plan = preview_grids(engine, args.path, crs=args.crs, datum=args.datum or "wgs84",
                                 progress=progress)
        else:
            from minqing.household_import import preview_households

            plan = preview_households(engine, args.path, crs=args.crs, datum=args.datum,
                                      progress=progress)
        outcome, status = "dry_run", 0
        if plan.report.blocked:
            outcome, status = "blocked", 2
        elif not args.dry_run:
            try:
                apply(engine, plan, actor=f"cli:{getpass.getuser()}", progress=progress)
                outcome = "applied"
            except StalePlan:
                outcome, status = "stale", 1
            except Exception as exc:  # the transaction rolled back: report, do not crash
                outcome, status = f"failed: {type(exc).__name__}: {exc}"[:300], 1
    finally:
        bar.close()
    if args.json:
        print(json.dumps({**plan.report.as_dict(), "outcome": outcome}, ensure_ascii=False,
                         default=str))
    else:
        _print_text(plan.report, args.lang)
        if outcome == "blocked":
            print(t("data.blocked", args.lang), file=sys.stderr)
        elif outcome == "stale":
            print(t("data.stale", args.lang), file=sys.stderr)
        elif outcome.startswith("failed"):
            print(t("data.failed", args.lang, reason=outcome), file=sys.stderr)
        elif outcome == "applied":
            print(t("data.applied", args.lang, new=plan.report.counts.get("new", 0),
                    updated=plan.report.counts.get("updated", 0),
                    moved=plan.report.counts.get("moved", 0)))
    return status
