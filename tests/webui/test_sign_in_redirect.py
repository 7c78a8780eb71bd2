"""Where the sign-in page may send the browser afterwards: same-site paths only."""

from __future__ import annotations

import pytest

from webui.session import safe_redirect


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "/\\\\evil.example",
        "//evil.example",
        "///evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\tevil",
        "/\n/evil.example",
        "evil.example",
        "",
        None,
    ],
)
def test_anything_but_a_same_site_path_goes_home(target: str | None) -> None:
    assert safe_redirect(target) == "/"


@pytest.mark.parametrize("target", ["/connections", "/logs?connection=abc&level=error", "/"])
def test_same_site_paths_are_followed(target: str) -> None:
    assert safe_redirect(target) == target
