"""Strings of the planner: grid layer versions, size bounds, rebalancing, compare, publish."""

from __future__ import annotations

# key: (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    # --- layer versions (minqing.layers) ---
    "layers.error.not_found": ("网格图层版本 {number} 不存在。", "Grid layer version {number} does not exist."),
    "layers.error.actor": ("请填写操作人。", "Please give who is acting."),
    "layers.error.reason": ("请填写发布或恢复的理由。", "Please give a reason for publishing or restoring."),
    "layers.error.code": ("网格编码“{code}”为空或重复。", "Grid code \"{code}\" is empty or used twice."),
    "layers.error.geom": ("网格“{code}”的边界不是有效的多边形。", "The boundary of grid \"{code}\" is not a valid polygon."),
    "layers.error.town": ("网格“{code}”不在所选镇街内。", "Grid \"{code}\" is not in the chosen towns."),
    "layers.error.assignment": (
        "住户 {household} 被分到不存在的网格“{code}”。",
        "Household {household} is assigned to grid \"{code}\", which is not in the version.",
    ),
    "layers.error.household": ("住户 {household} 不存在。", "Household {household} does not exist."),
    "layers.error.no_grid": ("镇街 {town} 有住户但没有网格。", "Town {town} has households but no grid."),
    "layers.error.no_current": ("尚无当前网格图层版本。", "There is no current grid layer version yet."),
    "layers.error.conflict": (
        "在您编制方案期间，已有他人发布了新的网格图层版本。请重新载入后再做方案。",
        "Someone published another grid layer version while you were planning. Reload and plan again.",
    ),
    "layers.error.already_current": ("版本 {number} 已是当前版本。", "Version {number} is already current."),
    "layers.error.published": (
        "版本 {number} 已发布过，作为历史保留，不能删除。",
        "Version {number} has been published; it stays as history and cannot be deleted.",
    ),
}
