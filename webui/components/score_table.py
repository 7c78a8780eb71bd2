"""Every connection's health score as one row of a table (it stays usable with hundreds of
connections: paged, sortable, searchable): the score and its band in words, the gate, each
component's value, rate-limit usage, and why the score is not whole.

The rows come from the connection stream, which carries each connection's health with its
score; :meth:`ScoreTable.show` is called with all connections (the page coalesces bursts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cts.connection.v1 import connection_pb2 as pb
from nicegui import ui

from webui import theme
from webui.choices import EXCHANGES
from webui.components.data_table import DataTable, column
from webui.components.status import number, rate_text
from webui.components.system_status import band_word

# The components of the score, as the server names them (server/monitoring/score.py).
COMPONENTS = ("errors", "latency", "headroom", "uptime")
COLUMNS = [
    column("name", "Connection", sortable=True, min_rem=8),
    column("exchange", "Exchange", sortable=True),
    column("health", "Health", sortable=True),
    column("score", "Score", align="right", sortable=True),
    column("band", "Band", sortable=True, nowrap=True),
    column("gate", "Gate", align="right"),
    *(column(name, name.capitalize(), align="right", sortable=True) for name in COMPONENTS),
    column("rate", "Rate limits", min_rem=10),
    column("why", "Why not 100", min_rem=16),
]
BAND_WEIGHTS = {"major_outage": "font-semibold"}
ROWS_PER_PAGE = 25
NO_SCORE = "no data yet: never checked and no calls"


def band_classes(band: str) -> str:
    """A band's word in its tone (:data:`webui.theme.BANDS`), a major outage heavier."""
    return f"{theme.text(theme.tone(theme.BANDS, band))} {BAND_WEIGHTS.get(band, '')}".strip()


def score_reasons(score: pb.HealthScore) -> str:
    """Why the score is below 100: the gate's reason when it is below 1, then each component
    below 1 with its reason."""
    reasons = [f"gate: {score.gate_reason}"] if score.gate < 1 else []
    reasons += [f"{c.name}: {c.reason}" for c in score.components if c.value < 1]
    return " · ".join(reasons)


def score_row(connection: pb.Connection) -> dict[str, Any]:
    health = connection.health
    row: dict[str, Any] = {
        "id": connection.id,
        "name": connection.name,
        "exchange": EXCHANGES.get(connection.exchange, connection.exchange),
        "health": health.status or "unknown",
        "rate": rate_text(health.rate_limit) if health.HasField("rate_limit") else "—",
    }
    if not health.HasField("score"):
        band = "unknown"
        row.update(score=None, gate="—", why=NO_SCORE, **dict.fromkeys(COMPONENTS, "—"))
    else:
        score = health.score
        band = score.band
        values = {c.name: f"{c.value:.2f}" for c in score.components}
        row.update(
            score=score.value,
            gate=number(score.gate),
            why=score_reasons(score),
            **{name: values.get(name, "—") for name in COMPONENTS},
        )
    row.update(band=band_word(band), band_class=band_classes(band))
    return row


def worst_first(connections: Iterable[pb.Connection]) -> list[pb.Connection]:
    """Lowest score first; connections without a score last; then by name."""
    return sorted(
        connections,
        key=lambda c: (
            not c.health.HasField("score"),
            c.health.score.value,
            c.name.casefold(),
        ),
    )


def formula(connections: Iterable[pb.Connection]) -> str:
    """The score's formula with the weights the server gives (35% errors, ...); ``""`` until a
    connection has a score."""
    for connection in connections:
        if connection.health.HasField("score"):
            terms = " + ".join(
                f"{number(100 * c.weight)}% {c.name}" for c in connection.health.score.components
            )
            return f"score = 100 × gate × ({terms}), each component from 0 to 1"
    return ""


class ScoreTable:
    def __init__(self) -> None:
        with ui.card().classes("w-full gap-2").mark("score-table"):
            with ui.row().classes("w-full items-center"):
                ui.label("Health scores").classes("text-lg font-semibold")
                ui.space()
                self.search = (
                    ui.input(placeholder="Search connections")
                    .props("dense clearable")
                    .classes("w-64")
                    .mark("score-search")
                )
            self.formula = ui.label().classes("text-sm text-gray-600").mark("score-formula")
            self.table = (
                DataTable(columns=COLUMNS, rows=[], row_key="id", pagination=ROWS_PER_PAGE)
                .classes("w-full")
                .props("dense flat wrap-cells")
                .color("band")
                .mark("score-rows")
            )
            self.search.bind_value_to(self.table, "filter")

    def show(self, connections: Iterable[pb.Connection]) -> None:
        ordered = worst_first(connections)
        self.table.show([score_row(c) for c in ordered])
        text = formula(ordered)
        self.formula.set_visibility(bool(text))
        self.formula.set_text(text)
