"""What a connection test's clock drift can be trusted to: drift is measured at the midpoint of
the server-time round trip, so it is off by up to half that trip's latency (on a loaded machine
a trip took 1,072 ms and the drift read 535 ms high), plus a margin for the clocks' rounding."""

from __future__ import annotations

MARGIN_MS = 250


def drift_is(measured_ms: int, expected_ms: int, latency_ms: int) -> bool:
    """The measured drift is ``expected_ms`` within what the round trip lets it be."""
    return abs(measured_ms - expected_ms) <= MARGIN_MS + latency_ms / 2
