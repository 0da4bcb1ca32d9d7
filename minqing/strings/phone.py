"""Catalogue strings of a grid cadre's start page ("my grids") and the quick diary entry."""

STRINGS: dict[str, tuple[str, str]] = {
    "nav.mine": ("我的网格", "My grids"),
    "mine.title": ("我的网格", "My grids"),
    "mine.grid_line": ("{households} 户 · 在办 {open} 件 · 逾期 {overdue} 件",
                       "{households} households · {open} open · {overdue} overdue"),
    "mine.new_entry": ("写民情日记", "New entry"),
    "mine.open_grid": ("网格详情", "Grid page"),
    "mine.no_grids": ("您的辖区内没有网格。", "There is no grid in your area."),
    "mine.cases": ("待办事项（{n}）", "Open cases ({n})"),
    "mine.paired": ("结对户（{n}）", "Paired households ({n})"),
    "mine.paired_empty": ("暂无结对户。", "No paired households."),
    "mine.tbl.cadres": ("结对干部", "Paired cadres"),
    "mine.tbl.tags": ("类别", "Tags"),
}
