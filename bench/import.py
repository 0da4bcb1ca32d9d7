"""Benchmark: importing the full demo district's grids and households into an empty store.

    python bench/import.py [--source URL]

The full-scale demo (built into a temporary SQLite file unless ``--source`` points at one) is
exported the way a data officer receives real data: its 1,200 grids as a GeoPackage and its
~136,000 households as a GBK-encoded CSV with Chinese headers. Then, into a fresh empty SQLite
store:

- ``grids_seconds``: preview + apply of the GeoPackage (towns and areas created from it);
- ``households_seconds``: preview (decode, every check, point-in-grid) + apply of the CSV;
- ``rows_per_second``: households per second over that whole import;
- ``naive_rows_per_second``: the baseline, in the same run: one ORM insert per row with a commit
  after each (batches of 1), over the first 2,000 rows, into a copy of the store with the grids;
- ``speedup``: ``rows_per_second / naive_rows_per_second``.

Goals (issue 13): households at most 30 s on SQLite, speedup at least 20. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import shapely
from sqlalchemy import select

from minqing.exporting import grid_layer, household_table
from minqing.grid_import import preview_grids
from minqing.household_import import preview_households
from minqing.importer import apply
from minqing.models import Grid, Household
from minqing.scope import Scope
from minqing.store import get_engine, session_scope, upgrade

NAIVE_ROWS = 2_000
HEADERS = {"code": "户编码", "head_name": "户主姓名", "phone": "联系电话", "id_number": "身份证号",
           "address": "家庭住址", "size": "家庭人口", "tags": "标签", "lon": "经度", "lat": "纬度",
           "grid_code": "网格编码"}


def _source(tmp: Path, url: str | None) -> str:
    if url:
        return url
    from minqing.demo import build

    url = f"sqlite:///{tmp / 'demo.db'}"
    build(url, scale="full", seed=2026, progress=False)
    return url


def _files(source_url: str, tmp: Path) -> tuple[Path, Path, int]:
    engine = get_engine(source_url)
    grids = grid_layer(engine, scope=Scope.district())[["code", "name", "town", "area", "kind",
                                                         "geometry"]]
    gpkg = tmp / "网格.gpkg"
    grids.to_file(gpkg, layer="grids", driver="GPKG")
    homes = household_table(engine, scope=Scope.district())
    csv = tmp / "住户.csv"
    homes.rename(columns=HEADERS).to_csv(csv, index=False, encoding="gbk")
    return gpkg, csv, len(homes)


def _naive(url: str, csv_rows) -> float:
    """Rows per second for one ORM insert + commit per row (the first NAIVE_ROWS rows)."""
    engine = get_engine(url)
    with engine.connect() as conn:
        grid_ids = {r.code: (r.id, r.town_id)
                    for r in conn.execute(select(Grid.code, Grid.id, Grid.town_id))}
    start = time.perf_counter()
    for row in csv_rows:
        grid_id, town_id = grid_ids[row.grid_code]
        with session_scope(engine) as session:
            session.add(Household(code=row.code, grid_id=grid_id, town_id=town_id,
                                  head_name=row.head_name, phone=row.phone,
                                  id_number=row.id_number, address=row.address,
                                  size=int(row.size), tags=row.tags, lon=float(row.lon),
                                  lat=float(row.lat), geom=shapely.Point(row.lon, row.lat)))
    return len(csv_rows) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="a store holding the full demo (default: build one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minqing-bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        source = _source(tmp, args.source)
        gpkg, csv, n = _files(source, tmp)
        target = tmp / "target.db"
        url = f"sqlite:///{target}"
        upgrade(url)
        engine = get_engine(url)

        start = time.perf_counter()
        grid_plan = preview_grids(engine, gpkg)
        apply(engine, grid_plan)
        grids_seconds = time.perf_counter() - start

        engine.dispose()
        naive_copy = tmp / "naive.db"
        shutil.copy(target, naive_copy)

        start = time.perf_counter()
        plan = preview_households(engine, csv)
        preview_seconds = time.perf_counter() - start
        written = apply(engine, plan)
        households_seconds = time.perf_counter() - start

        sample = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="gbk",
                             nrows=NAIVE_ROWS).rename(columns={v: k for k, v in HEADERS.items()})
        naive = _naive(f"sqlite:///{naive_copy}", list(sample.itertuples(index=False)))
        rate = n / households_seconds
        result = {
            "households": n,
            "grids": grid_plan.report.counts.get("new", 0),
            "households_written": written.get("new", 0),
            "findings": len(plan.report.findings),
            "grids_seconds": round(grids_seconds, 2),
            "households_preview_seconds": round(preview_seconds, 2),
            "households_seconds": round(households_seconds, 2),
            "rows_per_second": round(rate),
            "naive_rows_per_second": round(naive),
            "speedup": round(rate / naive, 1),
            "load_average": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
