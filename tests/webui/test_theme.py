"""The dashboard's palette: every colour pair it draws text with is readable (WCAG 2 contrast
ratio at least 4.5:1), and every status means one of those tones."""

from __future__ import annotations

import pytest

from webui import theme

STATUS_MAPS = {
    "health": theme.HEALTH,
    "score bands": theme.BANDS,
    "test results": theme.TESTS,
    "engine states": theme.ENGINE_STATES,
    "loading stages": theme.STAGES,
    "start-up checks": theme.CHECKS,
    "log levels": theme.LOG_LEVELS,
    "sides and PnL signs": theme.SIDES,
    "rate-limit bars": {"busy": theme.BUSY_BAR, "calm": theme.CALM_BAR},
    "PnL chart lines": theme.CHART_SERIES,
}


def test_the_contrast_ratio_follows_wcag() -> None:
    assert theme.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert theme.contrast("#ffffff", "#ffffff") == pytest.approx(1)
    # The greens, orange and greys the dashboard had: 2.57, 2.16 and 2.68 to 1 on white.
    assert theme.contrast("#21ba45", "#ffffff") == pytest.approx(2.57, abs=0.01)
    assert theme.contrast("#ff9800", "#ffffff") == pytest.approx(2.16, abs=0.01)
    assert theme.contrast("#9e9e9e", "#ffffff") == pytest.approx(2.68, abs=0.01)


@pytest.mark.parametrize(("what", "foreground", "background"), theme.PAIRS)
def test_every_pair_drawn_is_readable(what: str, foreground: str, background: str) -> None:
    assert theme.contrast(foreground, background) >= 4.5, what


@pytest.mark.parametrize("meanings", STATUS_MAPS.values(), ids=STATUS_MAPS.keys())
def test_every_status_is_drawn_in_a_checked_tone(meanings: dict[str, str]) -> None:
    assert set(meanings.values()) <= set(theme.STATUS_TONES)
    assert theme.tone(meanings, "something new") == "neutral"
