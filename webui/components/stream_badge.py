"""The badge that says whether a stream is up: "Live", or "Reconnecting…" while it is not."""

from __future__ import annotations

from nicegui import ui


def live_words(live: bool) -> tuple[str, str]:
    """The badge's text and colour (a Quasar colour name) for a stream that is or is not up."""
    return ("Live", "positive") if live else ("Reconnecting…", "caution")


def show_live(badge: ui.badge, live: bool) -> None:
    text, color = live_words(live)
    badge.set_text(text)
    badge.props(f"color={color}")
