"""Catalogue strings of a grid cadre's start page ("my grids"), the quick diary entry and case
update, and the receipts that say a save went through."""

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
    "mine.update_case": ("更新进展", "Update"),
    "mine.more_cases": ("另有 {n} 件未列出，见下方表格。", "{n} more are not listed: see the table below."),
    "mine.all_cases": ("全部待办事项（表格）", "All open cases (table)"),
    "case.quick_presets": ("经办人：{actor} · 日期：{day}", "Recorded by {actor} · {day}"),
    "case.all_actions": ("更多操作与完整信息", "More actions and the whole case"),
    "receipt.diary": ("您上次保存的民情日记已经记录（{at}），无需重新提交。",
                      "Your last diary entry was recorded at {at}; no need to save it again."),
    "receipt.case": ("您上次的「{action}」已经记录（{at}），无需重新提交。",
                     "Your last update, “{action}”, was recorded at {at}; no need to submit it again."),
}
