"""``minqing import``: --dry-run writes nothing, --json prints one object, exit codes."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from minqing.cli import main
from minqing.models import Grid, Household
from minqing.store import get_engine
from tests.importfiles import GK, county_grids, household_rows, write_zipped_shapefile


def _count(url, model) -> int:
    with get_engine(url).connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_dry_run_json_then_apply_then_households(db_url, tmp_path, capsys):
    grids = county_grids()
    path = tmp_path / "grids.gpkg"
    grids.to_file(path, driver="GPKG")
    assert main(["import", "grids", str(path), "--url", db_url, "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (out["outcome"], out["counts"]["new"], out["blocked"]) == ("dry_run", len(grids), False)
    assert _count(db_url, Grid) == 0

    assert main(["import", "grids", str(path), "--url", db_url]) == 0
    assert "1" in capsys.readouterr().out
    assert _count(db_url, Grid) == len(grids)

    homes = tmp_path / "homes.csv"
    household_rows(grids).to_csv(homes, index=False, encoding="gbk")
    assert main(["import", "households", str(homes), "--url", db_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["outcome"] == "applied"
    assert out["encoding"] == "gb18030"
    assert _count(db_url, Household) == 3 * len(grids)


def test_blocked_import_exits_2_and_the_answer_unblocks_it(db_url, tmp_path, capsys):
    archive = write_zipped_shapefile(county_grids(), tmp_path / "shp", crs=GK, prj=False)
    assert main(["import", "grids", str(archive), "--url", db_url, "--lang", "en"]) == 2
    captured = capsys.readouterr()
    assert "cannot be inferred" in captured.out
    assert _count(db_url, Grid) == 0
    assert main(["import", "grids", str(archive), "--url", db_url, "--crs", "EPSG:4549",
                 "--json"]) == 0
    assert _count(db_url, Grid) == len(county_grids())
