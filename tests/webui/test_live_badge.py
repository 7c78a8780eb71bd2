"""The header's live badge: a page shows its streams' state at once, also on a feed that an
earlier page had left (the server's heartbeat stays at its default 15 s here)."""

from __future__ import annotations

from nicegui.testing.user import User

from tests.webui.test_dashboard import sign_in
from webui.components.stream_badge import live_words


async def test_a_page_on_a_resumed_feed_is_live_at_once(user: User) -> None:
    await sign_in(user)
    await user.should_see(marker="live-badge", content="Live")
    # The tab goes away (NiceGUI deletes a client once its browser is gone): the feed's last
    # page left, so its stream stops and is resumed after its last revision by the next page.
    user.client.delete()
    await user.open("/connections")
    await user.should_see(marker="connection-card")
    # Well under the 15 s heartbeat: a resumed stream that missed nothing says so at once.
    await user.should_see(marker="live-badge", content="Live", retries=50)


def test_every_stream_badge_says_live_or_reconnecting() -> None:
    # The header's badge and the Overview's and Live trading's stream badges all say it so.
    assert live_words(True) == ("Live", "positive")
    assert live_words(False) == ("Reconnecting…", "caution")
