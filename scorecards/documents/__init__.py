"""Printed documents (SPEC §7): scorecards, the portfolio, claims and reviews, from the frames.

Documents read the metrics, statuses, verdicts and leads frames (docs/DESIGN.md); they select
and format, never recompute. Rendering is safe (autoescaped, no network) and reproducible.
"""

from scorecards.documents.portfolio import portfolio_context, write_portfolio
from scorecards.documents.render import render_pdf, safe_output_path
from scorecards.documents.scorecard import scorecard_context, write_scorecard

__all__ = [
    "portfolio_context",
    "render_pdf",
    "safe_output_path",
    "scorecard_context",
    "write_portfolio",
    "write_scorecard",
]
