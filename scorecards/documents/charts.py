"""SVG charts for the documents (altair + vl-convert), embedded as data: URIs.

Why altair: the SVG keeps real `<text>` in DejaVu Sans (the documents' font, installed where the
PDF is made), the spec is plain data we can build from a frame without loops, and vl-convert
renders it without a browser or a timestamp. Sizes are fixed, so the same frame gives the same
bytes. The first chart pays for the JS runtime start (~0.6 s); later ones ~0.03 s.

Charts only draw values they are given; they compute nothing.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import altair as alt
import polars as pl
import vl_convert
from markupsafe import Markup

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


def _to_svg(chart: alt.TopLevelMixin) -> str:
    # The specs are built by the functions below, not typed by anyone: validating each against
    # the Vega-Lite JSON schema cost more than converting it (tests/test_documents.py validates).
    svg: str = vl_convert.vegalite_to_svg(chart.to_dict(validate=False), config=_CONFIG)
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

    colour = alt.Color(
        "series:N", scale=alt.Scale(domain=names, range=colours), title=None, legend=None
    )

    width = ACROSS_WIDTH if across else PANEL_WIDTH

    def panel(series: str, title: str, month_labels: bool) -> alt.LayerChart | alt.FacetChart:
        """One metric on its own y scale from 0 (fill rate sits near 100%, the others low)."""
        x = alt.X(
            "month_label:N",
            sort=list(month_order),
            title=None,
            axis=alt.Axis(
                labelAngle=0,
                grid=False,
                labels=month_labels,
                ticks=month_labels,
                labelExpr="slice(datum.label, 0, 3)" if across else "datum.label",
            ),
        )
        y = alt.Y(
            "value:Q",
            title=None,
            axis=alt.Axis(format=".0%", tickCount=5),
            scale=alt.Scale(zero=True, nice=True),
        )
        keep = alt.FieldEqualPredicate(field="series", equal=series)
        base = alt.Chart(alt.Data(values=data.to_dicts())).transform_filter(keep)
        # judged months joined by a solid line; a provisional month (SQL window open) is a
        # hollow point on its own, never joined, so an unfinished 0% does not read as a collapse
        final_months = (
            base.transform_filter("!datum.provisional")
            .mark_line(strokeWidth=2)
            .encode(x=x, y=y, color=colour)
        )
        points = base.mark_point(size=36, strokeWidth=1.5).encode(
            x=x,
            y=y,
            color=colour,
            fill=alt.condition("datum.provisional", alt.value("white"), colour),
            opacity=alt.condition("datum.provisional", alt.value(0.7), alt.value(1.0)),
            shape=alt.condition("datum.provisional", alt.value("diamond"), alt.value("circle")),
        )
        limit_base = alt.Chart(alt.Data(values=rules.to_dicts())).transform_filter(keep)
        limit_rules = limit_base.mark_rule(strokeDash=[3, 2], strokeWidth=1, color=INK).encode(
            y="limit:Q"
        )
        # each limit says what it is, at the right end of its rule, on its passing side (under a
        # minimum, over a maximum), where the line of a passing vendor does not run
        limit_labels = [
            limit_base.transform_filter(alt.FieldEqualPredicate(field="bound", equal=bound))
            .mark_text(align="right", baseline=baseline, dy=dy, fontSize=8, color=INK, font=FONT)
            .encode(y="limit:Q", x=alt.value(width), text="label:N")
            for bound, baseline, dy in LIMIT_LABEL_SIDES
        ]
        return alt.layer(
            limit_rules,
            *limit_labels,
            final_months,
            points,
            width=width,
            height=ACROSS_HEIGHT if across else PANEL_HEIGHT,
            title=alt.TitleParams(
                series,
                subtitle=title,
                anchor="start",
                fontSize=9,
                subtitleFontSize=8,
                font=FONT,
                subtitleFont=FONT,
                color=INK,
                subtitleColor=MUTED,
                fontWeight="bold",
            ),
        )

    panels = [panel(name, TREND_TITLES[name], month_labels=True) for name in TREND_PANEL_ORDER]
    joined = alt.hconcat(*panels, spacing=14) if across else alt.vconcat(*panels, spacing=6)
    chart = joined.resolve_scale(y="independent").configure(**_CONFIG)
    return _to_svg(chart)


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
