"""The dashboard's colours, defined once: every status colour by what it means, and every pair
of colours the dashboard draws text with (foreground on its background).

Each tone is dark enough to be read both as text on the page's white and as the background of
white badge or chip text: WCAG 2 contrast at least 4.5:1 either way (tests/webui/test_theme.py
computes every pair). Quasar's own brand colours (primary, positive, negative, info) are
replaced by such tones, so ``color=positive`` and ``text-positive`` stay readable; ``warning``
keeps Quasar's light yellow, which Quasar draws only under dark text (warning toasts); the
dashboard's own statuses use ``caution`` instead.

Components name tones (``"positive"``, ``"caution"``) through the maps below, never raw colour
names of Quasar's palette (``orange``, ``grey``) whose contrast is 2-3:1.
"""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

WHITE = "#ffffff"
TEXT = "#1d1d1d"  # Quasar's body text
CAPTION = "#6a7282"  # Tailwind 4's gray-500 (oklch(55.1% 0.027 264.364)) in sRGB
HEADER = "#1e293b"  # the frame's header and menu (Tailwind slate-800, class bg-slate-800)
HEADER_TEXT = "#e2e8f0"  # the price ticker in the header (slate-200)
CONSOLE = "#0f172a"  # a connection test's log (slate-900)
CONSOLE_TEXT = "#f1f5f9"  # its lines (slate-100)

# Quasar's brand colours, replaced (``warning``: Quasar's own, drawn under dark text only).
BRAND = {
    "primary": "#1565c0",
    "positive": "#1e7b34",
    "negative": "#c10015",
    "info": "#0369a1",
    "warning": "#f2c037",
}
# The dashboard's own tones: classes ``text-<name>`` / ``bg-<name>``, Quasar ``color=<name>``.
CUSTOM = {
    "caution": "#a84d00",  # degraded, paused, stale, a test with warnings, log warnings
    "outage": "#b83a0b",  # a partial outage: between caution and negative
    "neutral": "#5f6368",  # unknown, stopped, skipped, disabled; captions and muted text
    "simulated": "#7b1fa2",  # the exchange simulator
}
TONES = {**BRAND, **CUSTOM}
# Tones drawn as text on white and as white text's background (badges, chips, toasts).
STATUS_TONES = ("primary", "positive", "negative", "info", *CUSTOM)

HEALTH = {"healthy": "positive", "degraded": "caution", "down": "negative", "unknown": "neutral"}
BANDS = {
    "operational": "positive",
    "degraded": "caution",
    "partial_outage": "outage",
    "major_outage": "negative",
    "unknown": "neutral",
}
TESTS = {"success": "positive", "warning": "caution", "failed": "negative"}
ENGINE_STATES = {
    "stopped": "neutral",
    "starting": "info",
    "running": "positive",
    "paused": "caution",
    "stopping": "neutral",
    "error": "negative",
}
STAGES = {
    "pending": "neutral",
    "running": "info",
    "done": "positive",
    "skipped": "neutral",
    "failed": "negative",
}
CHECKS = {"pass": "positive", "warn": "caution", "fail": "negative", "skipped": "neutral"}
LOG_LEVELS = {"debug": "neutral", "info": "info", "warning": "caution", "error": "negative"}
SIDES = {"long": "positive", "short": "negative"}  # also a PnL's sign: + and -
BUSY_BAR, CALM_BAR = "caution", "primary"  # a rate-limit bar nearly full, or not
CHART_SERIES = {"pseudo": "primary", "live": "caution"}  # the PnL chart's lines, by mode

# Every (what, foreground, background) the dashboard draws text with.
PAIRS: tuple[tuple[str, str, str], ...] = (
    *((f"{name} text on white", TONES[name], WHITE) for name in STATUS_TONES),
    *((f"white on {name}", WHITE, TONES[name]) for name in STATUS_TONES),
    ("body text on white", TEXT, WHITE),
    ("captions on white (Tailwind gray-500, the lightest grey used)", CAPTION, WHITE),
    ("dark text on a warning toast", TEXT, TONES["warning"]),
    ("header text", WHITE, HEADER),
    ("price ticker in the header", HEADER_TEXT, HEADER),
    ("a test's log lines", CONSOLE_TEXT, CONSOLE),
)


def tone(meanings: Mapping[str, str], key: str) -> str:
    """The tone ``key`` means in ``meanings``; ``neutral`` for anything it does not name."""
    return meanings.get(key, "neutral")


def text(tone_name: str) -> str:
    """The class that draws text in ``tone_name``: ``text-caution``."""
    return f"text-{tone_name}"


def apply() -> None:
    """Use the palette on the page being built (every page calls this once)."""
    ui.colors(**TONES)


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# A dialog's card: its width on a wide screen, never wider than the screen (Quasar leaves 24 px
# around it and scrolls it inside when it is taller).
def dialog_card(width: str) -> str:
    """``width``: a Tailwind width such as ``w-[32rem]``."""
    return f"{width} max-w-full"


# A dialog's buttons: kept in sight at the bottom of a dialog that scrolls inside, over the
# card's bottom padding (1rem) so that nothing scrolls past under them.
DIALOG_ACTIONS = "w-full justify-end sticky -bottom-4 -mb-4 pt-2 pb-4 bg-white z-10"
