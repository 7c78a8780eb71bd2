"""The browser side of bench/overview.py: what the bench installs in the Overview page to see
when a change is shown, how it matches fills to what was shown, and how it sorts the bytes of
the dashboard's socket frames by the part of the page they update; and how it prints them.

Times on both ends are milliseconds since the epoch on the same machine clock: the server's
fill stamps (a position's ``opened_at``/``closed_at``) and, in the page,
``performance.timeOrigin + performance.now()``.
"""

from __future__ import annotations

import bisect
import json
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

GRID = '[aria-label="Accounts: one row per connection"]'

# Records every account row whose open count or realised PnL (pseudo) changed in the grid's
# model, on the grid's own events (rowDataUpdated / modelUpdated, fired once a transaction is
# applied); and every change of the totals table's "Open" and "Realized total" cells, by a
# MutationObserver. Nothing polls.
HOOKS = """
() => {
  const now = () => performance.timeOrigin + performance.now();
  const element = document.querySelector('GRID');
  const api = getElement(element.id.slice(1)).api;
  window.__ctsGridApi = api;
  window.__rows = [];
  const last = {};
  const scan = () => {
    const t = now();
    api.forEachNode(node => {
      const d = node.data;
      const key = d.open + '|' + d.realized_pseudo;
      if (last[d.id] !== key) {
        last[d.id] = key;
        window.__rows.push([t, d.id, d.open, d.realized_pseudo]);
      }
    });
  };
  scan();
  api.addEventListener('rowDataUpdated', scan);
  api.addEventListener('modelUpdated', scan);

  const card = [...document.querySelectorAll('.q-card')]
    .find(c => c.textContent.includes('Totals per quote currency'));
  const totals = card.querySelector('.q-table__container');
  window.__totals = [];
  let seen = '';
  const read = () => {
    const rows = [...totals.querySelectorAll('tbody tr')]
      .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()))
      .filter(cells => cells.length >= 7);
    const open = rows.map(cells => cells[6]).join('|');
    const realized = rows.map(cells => cells[4]).join('|');
    if (open + '#' + realized !== seen) {
      seen = open + '#' + realized;
      window.__totals.push([now(), open, realized]);
    }
  };
  read();
  new MutationObserver(read).observe(totals, {subtree: true, childList: true, characterData: true});
  return api.getDisplayedRowCount();
}
""".replace("GRID", GRID)

# Each NiceGUI element id on the page (as the socket's messages name them) with the part of the
# page it belongs to.
PARTS = """
() => {
  const parts = {};
  const card = text => [...document.querySelectorAll('.q-card')]
    .find(c => c.textContent.includes(text));
  const own = (root, name) => {
    if (!root) return;
    for (const el of [root, ...root.querySelectorAll('[id^="c"]')]) {
      const id = el.id.slice(1);
      if (/^[0-9]+$/.test(id)) parts[id] = name;
    }
  };
  const element = el => (el ? el.closest('[id^="c"]') : null);
  own(card('Totals per quote currency'), 'accounts card, other');
  own(element(card('Totals per quote currency').querySelector('.q-table__container')),
      'totals table');
  own(element(document.querySelector('GRID')), 'accounts grid');
  own(card('Open positions'), 'open positions card, other');
  own(element(card('Open positions').querySelector('.ag-root-wrapper')),
      'open positions grid');
  const chart = element(document.querySelector('.nicegui-echart'));
  own(chart ? chart.closest('.q-card') : null, 'PnL chart card');
  return parts;
}
""".replace("GRID", GRID)


def frame_parts(payload: str, parts: dict[str, str]) -> dict[str, int]:
    """The bytes of one socket.io frame by part of the page: an ``update`` message's elements
    by their id, a ``run_javascript`` calling a method of an element (the grid's
    ``applyTransaction``) by that element; the rest (framing, other elements, pings) as
    "others"."""
    shares: dict[str, int] = {}
    start = 0
    while start < len(payload) and payload[start].isdigit():
        start += 1
    try:
        message = json.loads(payload[start:]) if start < len(payload) else None
    except json.JSONDecodeError:
        message = None
    if isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict):
        kind, data = message
        if kind == "update":
            for element, value in data.items():
                name = parts.get(element)
                if name is not None:
                    size = len(json.dumps(value, separators=(",", ":")))
                    shares[name] = shares.get(name, 0) + size
        elif kind == "run_javascript":
            called = re.match(r"return runMethod\((\d+),", str(data.get("code", "")))
            if called and called.group(1) in parts:
                shares[parts[called.group(1)]] = len(payload)
    shares["others"] = max(0, len(payload) - sum(shares.values()))
    return shares


@dataclass
class Fill:
    """One pseudo position opened or closed, as the bench's WatchPositions stream saw it."""

    connection_id: str
    kind: str  # opened or closed
    at_ms: float  # the server's opened_at / closed_at
    open_after: int  # the connection's open pseudo positions after it
    total_after: int  # every connection's, after it
    forced: bool = False  # closed by the bench's ClosePosition
    isolated: bool = field(default=False)  # no other fill on its connection within 1 s
    # When the bench's own WatchPositions stream (a gRPC client like the dashboard) received it.
    received_ms: float = 0.0


def pseudo_count(text: str) -> int | None:
    """``"3 / 0"`` → 3 (the pseudo count of an "Open pseudo / live" cell)."""
    head = text.split("/")[0].strip().replace(",", "")
    return int(head) if head.isdigit() else None


def shown_after(
    fills: list[Fill], records: list[tuple[float, int | None, str]]
) -> list[float | None]:
    """For each fill (all of one row, in stream order), how long after its stamp the row first
    showed it or a later fill of the same row: an open count that one of them left, and for a
    close a realised PnL other than the one shown before it. None: not seen."""
    latencies: list[float | None] = []
    fill_times = [f.at_ms for f in fills]
    record_times = [r[0] for r in records]
    for i, fill in enumerate(fills):
        first = bisect.bisect_left(record_times, fill.at_ms)
        realized_before = records[first - 1][2] if first else None
        found: float | None = None
        for t, count, realized in records[first:]:
            later = fills[i : max(i + 1, bisect.bisect_right(fill_times, t))]
            if count in {f.open_after for f in later} and (
                fill.kind == "opened" or realized != realized_before
            ):
                found = t - fill.at_ms
                break
        latencies.append(found)
    return latencies


def mark_isolated(fills: list[Fill], window_ms: float = 1000.0) -> None:
    by_connection: dict[str, list[Fill]] = {}
    for fill in fills:
        by_connection.setdefault(fill.connection_id, []).append(fill)
    for own in by_connection.values():
        for fill in own:
            fill.isolated = not any(
                other is not fill and abs(other.at_ms - fill.at_ms) <= window_ms for other in own
            )


def row_latencies(fills: list[Fill], rows: list[list[Any]]) -> list[tuple[Fill, float | None]]:
    """Every fill with the time until its account's row showed it."""
    records: dict[str, list[tuple[float, int | None, str]]] = {}
    for t, connection_id, opened, realized in rows:
        records.setdefault(connection_id, []).append((t, pseudo_count(opened), realized))
    by_connection: dict[str, list[Fill]] = {}
    for fill in fills:
        by_connection.setdefault(fill.connection_id, []).append(fill)
    result = []
    for connection_id, own in by_connection.items():
        own.sort(key=lambda f: f.at_ms)
        result.extend(zip(own, shown_after(own, records.get(connection_id, [])), strict=True))
    return result


def totals_latencies(fills: list[Fill], totals: list[list[Any]]) -> list[tuple[Fill, float | None]]:
    """Every fill with the time until the totals showed it (their open count summed over the
    currencies, every account's fills in one sequence)."""
    records = []
    for t, opened, realized in totals:
        counts = [pseudo_count(part) for part in str(opened).split("|") if part]
        known = [c for c in counts if c is not None]
        records.append((t, sum(known) if known else None, realized))
    ordered = sorted(fills, key=lambda f: f.at_ms)
    as_rows = [
        Fill(f.connection_id, f.kind, f.at_ms, f.total_after, f.total_after, f.forced)
        for f in ordered
    ]
    return list(zip(ordered, shown_after(as_rows, records), strict=True))


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)} (too few)"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"n={len(values)}  p50 {statistics.median(values):6.1f} ms  p95 {cuts[94]:6.1f} ms  "
        f"max {max(values):6.1f} ms"
    )


def latency_report(title: str, measured: list[tuple[Fill, float | None]]) -> None:
    print(f"\n{title}")
    groups = {
        "every fill": measured,
        "isolated fills": [(f, v) for f, v in measured if f.isolated],
        "bench's closes": [(f, v) for f, v in measured if f.forced],
        "engines' opens": [(f, v) for f, v in measured if f.kind == "opened"],
    }
    for name, group in groups.items():
        seen = [v for _, v in group if v is not None]
        print(f"    {name:<16} {percentiles(seen)}  (not seen: {len(group) - len(seen)})")


def interval_report(title: str, figures: dict[str, Any], tabs: int) -> None:
    print(f"\n{title}")
    print(f"    dashboard CPU          {100 * figures['dashboard_cpu']:.1f}% of one core")
    print(f"    dashboard RSS          {figures['dashboard_rss_mb']:.0f} MB")
    print(f"    server CPU             {100 * figures['server_cpu']:.1f}% of one core")
    shares, largest = figures["bytes"]["rates"], figures["bytes"]["largest"]
    total = sum(shares.values())
    print(f"    pushed to tab 1 of {tabs}   {total / 1024:.1f} kB/s")
    for name, rate in sorted(shares.items(), key=lambda kv: -kv[1]):
        share = 100 * rate / total if total else 0.0
        print(
            f"      {name:<28} {rate / 1024:8.1f} kB/s  {share:5.1f}%  "
            f"(largest in one frame {largest[name] / 1024:.1f} kB)"
        )
