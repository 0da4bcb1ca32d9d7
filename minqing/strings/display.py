"""Catalogue strings of the meeting-room wall display (/display)."""

STRINGS: dict[str, tuple[str, str]] = {
    "display.page": ("大屏展示", "Wall display"),
    "display.title": ("民情 · {view}", "Minqing · {view}"),
    "display.district": ("全区", "Whole district"),
    "display.updated": ("更新于 {time}", "Updated {time}"),
    "display.stale": ("数据截至 {time}，正在重新连接", "Data as of {time}, reconnecting"),
    "display.offline": ("与服务器的连接中断，正在重新连接", "Connection to the server lost, reconnecting"),
    "display.waiting": ("正在连接数据库", "Connecting to the database"),
    "display.need_link": ("此屏幕需要大屏链接：请管理员在“账号管理”页面为大屏账号生成链接",
                          "This screen needs its display link: an administrator makes one for "
                          "the display account on the Accounts page"),
    "display.period": ("今年以来 · {since} 至 {until}", "This year · {since} to {until}"),
    "display.trends": ("近12个月", "Last 12 months"),
    "display.ranking": ("各镇街排名 · {kpi}", "Town ranking · {kpi}"),
    "display.rank_of": ("第 {rank} 名 / 共 {count} 个", "Rank {rank} of {count}"),
    "display.legend": ("网格着色 · {metric}", "Grids coloured by {metric}"),
    "display.no_value": ("无记录", "No record"),
    "display.note.town": ("地址参数 town={value} 无此镇街，轮播全部镇街",
                          "town={value} is not a town: showing all towns in turn"),
    "display.note.metric": ("地址参数 metric={value} 不可用，改用“{default}”",
                            "metric={value} is not available: using {default}"),
    "display.note.dwell": ("地址参数 dwell={value} 无效，每屏停留 {default} 秒",
                           "dwell={value} is not valid: {default} s per view"),
    "display.note.theme": ("地址参数 theme={value} 无效，使用深色", "theme={value} is not valid: using dark"),
    "display.sep": ("；", "; "),
    "display.months": ("{first} 至 {last}", "{first} to {last}"),
}
