"""Catalogue strings of the district map's street view, controls, legend and map state."""

STRINGS: dict[str, tuple[str, str]] = {
    "map.control.home": ("显示全部辖区", "Zoom to my whole area"),
    "map.control.fullscreen": ("全屏", "Full screen"),
    "map.control.exit_fullscreen": ("退出全屏", "Exit full screen"),
    "map.control.search": ("搜索网格名称或编码", "Find a grid by name or code"),
    "map.control.not_found": ("未找到该网格", "No grid of that name or code"),
    "map.legend.cells": ("住户：每{size}米六边形格一个点", "Households: one dot per {size} m hexagon"),
    "map.legend.cell_care": ("其中重点关爱户（按面积比例）", "Share needing care (by area)"),
    "map.legend.cells_note": ("点越大户越多；放大到街道可逐户显示。",
                              "Bigger dot, more households. Zoom in to a street to see each one."),
    "map.legend.households_each": ("住户：视野内逐户显示", "Households in view, one dot each"),
    "map.counters.scope": ("全部辖区", "Whole area"),
    "map.counters.in_view": ("视野内 {n} 个网格", "{n} grids in view"),
    "map.counters.in_view_help": (
        "统计中心点在当前地图视野内的网格；缩小地图或点地图左上角的房子按钮回到全部辖区。",
        "Counts the grids whose centre is on screen; zoom out or press the house button on the map for the "
        "whole area.",
    ),
    "map.households.cells": ("住户按六边形格汇总；放大到街道可逐户显示。",
                             "Households are counted per hexagon; zoom in to a street to see each one."),
    "map.households.points": ("视野内逐户显示 {n} 户。", "Showing the {n} households in view."),
    "map.copy_link": ("复制浏览器地址即可分享当前视图（镇街、指标、图层、位置）。",
                      "Copy the browser's address to share this view (town, measure, layers, "
                      "position)."),
}
