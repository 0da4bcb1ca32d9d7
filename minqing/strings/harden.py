"""Strings of the hardening work: a busy or unreachable database."""

STRINGS: dict[str, tuple[str, str]] = {
    "store.busy": (
        "数据库正忙，本次没有保存任何内容；您填写的内容仍在表单中，请稍后再点保存。",
        "The database is busy: nothing was saved. Your input is still in the form; please save "
        "again in a moment."),
    "store.unreachable": (
        "暂时连不上数据库，本次没有保存任何内容；您填写的内容仍在表单中，请稍后再点保存。",
        "The database cannot be reached just now: nothing was saved. Your input is still in the "
        "form; please save again in a moment."),
    "store.page_unavailable": (
        "暂时连不上数据库或数据库正忙，本页无法显示，请稍后刷新。",
        "The database is busy or cannot be reached just now, so this page cannot be shown. "
        "Please reload in a moment."),
    "diary.error.too_large": ("「{field_name}」不能超过 {max_value}。",
                              "“{field_name}” cannot be more than {max_value}."),
    "export.xlsx": ("导出 Excel", "Excel"),
    "export.csv": ("导出 CSV", "CSV"),
    "export.backlog": ("待办事项", "open cases"),
    "export.diary": ("民情日记", "diary entries"),
}
