"""SVG charts for the documents (altair + vl-convert), embedded as data: URIs.

Why altair: the SVG keeps real `<text>` in DejaVu Sans (the documents' font, installed where the
PDF is made), the spec is plain data we can build from a frame without loops, and vl-convert
renders it without a browser or a timestamp. Sizes are fixed, so the same frame gives the same
bytes. The first chart pays for the JS runtime start (~0.6 s); later ones ~0.03 s.

Charts only draw values they are given; they compute nothing.
"""

from __future__ import annotations

import base64
from typing import Any

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


def trend_svg(trend: pl.DataFrame, thresholds: pl.DataFrame) -> str:
    """Six-month trend of one vendor: a line per metric, the contract limits as rules.

    `trend`: month (str), month_label (str), metric, value (Float64), provisional (Boolean),
    long format, one row per month x metric. `thresholds`: metric, limit (Float64).
    Provisional points (an immature month's downstream figure) are drawn as hollow diamonds,
    not joined to the judged months' solid line.
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
    rules = thresholds.join(labels, on="metric", how="inner").select("series", "limit")
    month_order = data.select("month", "month_label").unique().sort("month")["month_label"]

    colour = alt.Color("series:N", scale=alt.Scale(domain=names, range=colours), title=None)

    def panel(
        series: list[str], height: int, zero: bool, month_labels: bool
    ) -> alt.LayerChart | alt.FacetChart:
        """Lines of `series` on their own y scale: fill rate sits near 100%, the others low."""
        x = alt.X(
            "month_label:N",
            sort=list(month_order),
            title=None,
            axis=alt.Axis(labelAngle=0, grid=False, labels=month_labels, ticks=month_labels),
        )
        y = alt.Y(
            "value:Q",
            title=None,
            axis=alt.Axis(format=".0%", tickCount=max(2, height // 30)),
            scale=alt.Scale(zero=zero, nice=True),
        )
        keep = alt.FieldOneOfPredicate(field="series", oneOf=series)
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
            opacity=alt.condition("datum.provisional", alt.value(0.6), alt.value(1.0)),
            shape=alt.condition("datum.provisional", alt.value("diamond"), alt.value("circle")),
        )
        limit_rules = (
            alt.Chart(alt.Data(values=rules.to_dicts()))
            .transform_filter(keep)
            .mark_rule(strokeDash=[2, 2], strokeWidth=1, opacity=0.8)
            .encode(y="limit:Q", color=colour)
        )
        return alt.layer(limit_rules, final_months, points, width=560, height=height)

    chart = (
        alt.vconcat(
            panel(["Fill rate"], 60, zero=False, month_labels=False),
            panel(["SQL rate", "Invalid rate"], 130, zero=True, month_labels=True),
            spacing=8,
        )
        .resolve_scale(y="independent")
        .configure(**_CONFIG)
    )
    return _to_svg(chart)


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
        .properties(width=400, height=alt.Step(17))
        .configure(**_CONFIG)
    )
    return _to_svg(chart)
