"""Accessible names (``aria-label``) for elements whose visible text does not say which
connection, exchange or stage they belong to: a card's buttons and checkbox, progress bars,
charts.

The name is set as a property value, never through a props string, so a name with quotes or
spaces (connection names are free text) needs no escaping.
"""

from __future__ import annotations

from typing import TypeVar

from nicegui import ui

E = TypeVar("E", bound=ui.element)


def named(element: E, name: str) -> E:
    """``element`` with the accessible name ``name`` (updated in place when it changes)."""
    if element.props.get("aria-label") != name:
        element.props["aria-label"] = name
        element.update()
    return element


def image(element: E, name: str) -> E:
    """``element`` (a chart drawn on a canvas) read out as one image named ``name``."""
    element.props["role"] = "img"
    return named(element, name)
