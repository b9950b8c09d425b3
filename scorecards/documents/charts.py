"""SVG charts for the documents (altair + vl-convert), embedded as data: URIs.

Why altair: the SVG keeps real `<text>` in DejaVu Sans (the documents' font, installed where the
PDF is made), the spec is plain data we can build from a frame without loops, and vl-convert
renders it without a browser or a timestamp. Sizes are fixed, so the same frame gives the same
bytes. The first chart pays for the JS runtime start (~0.6 s); later ones ~0.03 s.

Charts only draw values they are given; they compute nothing.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import vl_convert
from markupsafe import Markup

if TYPE_CHECKING:  # imported where the portfolio's chart is built: 0.6 s no other command pays
    import altair as alt

FONT = "DejaVu Sans"
INK = "#1f2933"
MUTED = "#6b7280"
GRID = "#e5e7eb"

# One colour per metric, shared by its line and its threshold rule.
TREND_METRICS = {
    "sql_rate": ("SQL rate", "#1d4ed8"),
    "invalid_rate": ("Invalid rate", "#b91c1c"),
    "fill_rate": ("Fill rate", "#0f766e"),
}
SHARE_COLOURS = {"Spend share": "#94a3b8", "SQL share": "#1d4ed8"}

_CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "white",
    "view": {"stroke": None},
    "axis": {
        "labelFont": FONT,
        "titleFont": FONT,
        "labelColor": INK,
        "titleColor": MUTED,
        "labelFontSize": 9,
        "titleFontSize": 9,
        "titleFontWeight": "normal",
        "gridColor": GRID,
        "domainColor": MUTED,
        "tickColor": MUTED,
    },
    "legend": {
        "labelFont": FONT,
        "titleFont": FONT,
        "labelFontSize": 9,
        "labelColor": INK,
        "orient": "bottom",
        "direction": "horizontal",
        "title": None,
        "symbolStrokeWidth": 2,
    },
}


def svg_data_uri(svg: str) -> str:
    """An SVG as a data: URI: rendered in an <img>, it cannot inject markup into the page.
    Markup (base64 has no quote to escape) tells the renderer it is ours, printed whole."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup(uri)


# The config as altair writes it into a spec: its default view size beside ours, keys in its order.
_SPEC_CONFIG: dict[str, Any] = {
    "view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None},
    **{key: _CONFIG[key] for key in ("axis", "background", "font", "legend")},
}
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"  # altair.SCHEMA_URL


def _to_svg(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """The chart's SVG. The trend chart, drawn on every scorecard, is a Vega-Lite spec written as
    plain data: building it through altair's objects took twice as long as converting it. The
    specs are built here, not typed by anyone, so none is validated against the Vega-Lite JSON
    schema on the way (tests/test_render_fast_path.py validates them)."""
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    svg: str = vl_convert.vegalite_to_svg(spec, config=_CONFIG)
    return svg


def warm_up() -> None:
    """Start vl-convert's JavaScript runtime now (a worker does it before its first document)."""
    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": []}})


def trend_svg(trend: pl.DataFrame, thresholds: pl.DataFrame, *, across: bool = False) -> str:
    """Six-month trend of one vendor: one titled panel per metric, each with its contract
    limits as labelled rules, every y axis from 0 with several ticks.

    `trend`: month (str), month_label (str), metric, value (Float64), provisional (Boolean),
    long format, one row per month x metric. `thresholds`: metric, bound ("min"|"max"), limit
    (Float64), label (str: the limit's words, "limit ≥ 95.0%", formatted by the caller). Provisional points (an immature
    month's downstream figure) are drawn as hollow diamonds, not joined to the judged months'
    solid line. `across`: the panels side by side, narrow, with three-letter month labels (six
    months on a page 1); else stacked, full width (a review's longer range).
    """
    names = [name for name, _ in TREND_METRICS.values()]
    colours = [colour for _, colour in TREND_METRICS.values()]
    labels = pl.DataFrame(
        {"metric": list(TREND_METRICS), "series": names}, schema_overrides={"metric": pl.String}
    )
    data = (
        trend.join(labels, on="metric", how="inner")
        .select("month", "month_label", "series", "value", "provisional")
        .sort("series", "month")
    )
    rules = thresholds.join(labels, on="metric", how="inner").select(
        "series", "bound", "limit", "label"
    )
    month_order = data.select("month", "month_label").unique().sort("month")["month_label"]

    width = ACROSS_WIDTH if across else PANEL_WIDTH
    height = ACROSS_HEIGHT if across else PANEL_HEIGHT
    values, limits = data.to_dicts(), rules.to_dicts()
    colour = {
        "field": "series",
        "legend": None,
        "scale": {"domain": names, "range": colours},
        "title": None,
        "type": "nominal",
    }
    x = {
        "axis": {
            "grid": False,
            "labelAngle": 0,
            "labelExpr": "slice(datum.label, 0, 3)" if across else "datum.label",
            "labels": True,
            "ticks": True,
        },
        "field": "month_label",
        "sort": list(month_order),
        "title": None,
        "type": "nominal",
    }
    y = {
        "axis": {"format": ".0%", "tickCount": 5},
        "field": "value",
        "scale": {"nice": True, "zero": True},
        "title": None,
        "type": "quantitative",
    }
    limit_y = {"field": "limit", "type": "quantitative"}

    def provisional(then: Any, otherwise: dict[str, Any]) -> dict[str, Any]:
        return {"condition": {"test": "datum.provisional", "value": then}, **otherwise}

    def panel(series: str) -> dict[str, Any]:
        """One metric on its own y scale from 0 (fill rate sits near 100%, the others low)."""
        keep = {"filter": {"equal": series, "field": "series"}}
        # each limit says what it is, at the right end of its rule, on its passing side (under a
        # minimum, over a maximum), where the line of a passing vendor does not run
        limit_labels = [
            {
                "data": {"values": limits},
                "mark": {"type": "text", "align": "right", "baseline": baseline,
                         "color": INK, "dy": dy, "font": FONT, "fontSize": 8},
                "encoding": {"text": {"field": "label", "type": "nominal"},
                             "x": {"value": width}, "y": limit_y},
                "transform": [keep, {"filter": {"equal": bound, "field": "bound"}}],
            }
            for bound, baseline, dy in LIMIT_LABEL_SIDES
        ]  # fmt: skip
        # judged months joined by a solid line; a provisional month (SQL window open) is a
        # hollow point on its own, never joined, so an unfinished 0% does not read as a collapse
        line = {
            "data": {"values": values},
            "mark": {"type": "line", "strokeWidth": 2},
            "encoding": {"color": colour, "x": x, "y": y},
            "transform": [keep, {"filter": "!datum.provisional"}],
        }
        points = {
            "data": {"values": values},
            "mark": {"type": "point", "size": 36, "strokeWidth": 1.5},
            "encoding": {
                "color": colour,
                "fill": provisional("white", colour),
                "opacity": provisional(0.7, {"value": 1.0}),
                "shape": provisional("diamond", {"value": "circle"}),
                "x": x,
                "y": y,
            },
            "transform": [keep],
        }
        rule = {
            "data": {"values": limits},
            "mark": {"type": "rule", "color": INK, "strokeDash": [3, 2], "strokeWidth": 1},
            "encoding": {"y": limit_y},
            "transform": [keep],
        }
        title = {
            "text": series, "anchor": "start", "color": INK, "font": FONT, "fontSize": 9,
            "fontWeight": "bold", "subtitle": TREND_TITLES[series], "subtitleColor": MUTED,
            "subtitleFont": FONT, "subtitleFontSize": 8,
        }  # fmt: skip
        return {
            "layer": [rule, *limit_labels, line, points],
            "height": height,
            "title": title,
            "width": width,
        }

    return _to_svg(
        {
            "config": _SPEC_CONFIG,
            "hconcat" if across else "vconcat": [panel(name) for name in TREND_PANEL_ORDER],
            "resolve": {"scale": {"y": "independent"}},
            "spacing": 14 if across else 6,
            "$schema": VEGA_LITE_SCHEMA,
        }
    )


# a limit's label sits on the passing side of its rule: under a minimum, over a maximum
LIMIT_LABEL_SIDES: tuple[tuple[str, Literal["top", "bottom"], int], ...] = (
    ("min", "top", 2),
    ("max", "bottom", -2),
)
PANEL_WIDTH = 560
PANEL_HEIGHT = 62
ACROSS_WIDTH = 170
ACROSS_HEIGHT = 62
TREND_PANEL_ORDER = ("Fill rate", "Invalid rate", "SQL rate")
TREND_TITLES = {
    "Fill rate": "accepted leads ÷ ordered",
    "Invalid rate": "invalid ÷ delivered",
    "SQL rate": "SQLs ÷ accepted · ◇ provisional",
}


def share_svg(shares: pl.DataFrame) -> str:
    """Spend share vs SQL share per vendor, as grouped horizontal bars.

    `shares`: vendor_name, rank (Int64), spend_share, sql_share (Float64 in [0, 1]).
    A vendor whose SQL bar is shorter than its spend bar buys less than its share of pipeline.
    """
    import altair as alt

    long = (
        shares.unpivot(
            on=["spend_share", "sql_share"],
            index=["vendor_name", "rank"],
            variable_name="measure",
            value_name="share",
        )
        .with_columns(
            pl.col("measure").replace_strict(
                {"spend_share": "Spend share", "sql_share": "SQL share"}, return_dtype=pl.String
            ),
            pl.col("share").fill_null(0.0),
        )
        .sort("rank", "measure")
    )
    order = list(shares.sort("rank")["vendor_name"])
    chart = (
        alt.Chart(alt.Data(values=long.to_dicts()))
        .mark_bar()
        .encode(
            y=alt.Y(
                "vendor_name:N",
                sort=order,
                title=None,
                scale=alt.Scale(paddingInner=0.2),
                axis=alt.Axis(labelLimit=200),
            ),
            yOffset=alt.YOffset("measure:N", sort=list(SHARE_COLOURS)),
            x=alt.X("share:Q", title=None, axis=alt.Axis(format=".0%", tickCount=5)),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(domain=list(SHARE_COLOURS), range=list(SHARE_COLOURS.values())),
                title=None,
            ),
        )
        .properties(width=400, height=alt.Step(12))
        .configure(**_CONFIG)
    )
    return _to_svg(chart)
