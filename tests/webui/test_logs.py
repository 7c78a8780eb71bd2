"""The Logs page with NiceGUI's simulated user against a real server: entries written through
WriteLog (or logged by the server's own pipeline) arrive on the page's StreamLogs tail."""

from __future__ import annotations

import asyncio
import logging

from cts.connection.v1 import connection_pb2 as cpb
from cts.monitoring.v1 import monitoring_pb2 as pb
from nicegui import ui
from nicegui.testing.user import User

from tests.conftest import auth
from tests.support.server_thread import ServerThread
from tests.webui.conftest import MonitoringStub, Stub, write_log
from tests.webui.test_dashboard import sign_in

WAIT = 50  # `should_see` tries every 0.1 s


async def create(stub: Stub, name: str) -> cpb.Connection:
    made: cpb.Connection = await stub.CreateConnection(
        cpb.CreateConnectionRequest(
            connection=cpb.Connection(name=name, exchange="okx", api_type="spot")
        ),
        metadata=auth(),
    )
    return made


async def open_logs(user: User, path: str = "/logs") -> None:
    await sign_in(user)
    await user.open(path)
    await user.should_see(marker="log-tail-state", content="Following", retries=WAIT)


def choose(user: User, marker: str, option: str) -> None:
    user.find(marker=marker).click()  # opens the options
    user.find(option).click()


async def shown(user: User, count: int) -> None:
    """Wait until the page shows ``count`` entries: the load for the filters has finished."""
    noun = "entry" if count == 1 else "entries"
    await user.should_see(marker="log-shown", content=f"{count} {noun} shown", retries=WAIT)


async def test_the_log_is_narrowed_by_text_level_category_and_connection(
    user: User, stub: Stub, monitoring: MonitoringStub
) -> None:
    logged = await create(stub, "Logged one")
    await write_log(monitoring, "alpha needle: info about the system")
    await write_log(
        monitoring,
        "beta needle: a warning of an engine",
        level="warning",
        category="engine",
        connection_id=logged.id,
    )
    await write_log(monitoring, "gamma needle: an order failed", level="error", category="order")
    await write_log(monitoring, "haystack only", level="error", category="order")
    await open_logs(user)
    for message in ("alpha needle", "beta needle", "gamma needle", "haystack only"):
        await user.should_see(marker="log-message", content=message)

    user.find(marker="log-filter-text").type("NEEDLE").trigger("keydown.enter")  # any case
    await shown(user, 3)
    await user.should_not_see("haystack only")

    choose(user, "log-filter-level", "Warning and above")
    await shown(user, 2)
    await user.should_not_see("alpha needle")
    await user.should_see("beta needle")
    await user.should_see("gamma needle")

    choose(user, "log-filter-category", "Engine")
    await shown(user, 1)
    await user.should_see("beta needle")
    await user.should_not_see("gamma needle")

    choose(user, "log-filter-category", "All categories")
    choose(user, "log-filter-level", "All levels")
    await shown(user, 3)
    choose(user, "log-filter-connection", "Logged one")
    await shown(user, 1)
    with user.scope(marker="log-lines"):
        await user.should_see(marker="log-connection", content="Logged one")
        await user.should_see("beta needle")

    # New entries follow the same filters.
    await write_log(monitoring, "delta needle: for the connection", connection_id=logged.id)
    await write_log(monitoring, "epsilon needle: for no connection")
    await user.should_see("delta needle", retries=WAIT)
    await shown(user, 2)
    await user.should_not_see("epsilon needle")


async def test_a_cards_logs_button_opens_the_log_of_its_connection(
    user: User, stub: Stub, monitoring: MonitoringStub
) -> None:
    mine, other = await create(stub, "Card owner"), await create(stub, "Someone else")
    await write_log(monitoring, "about the card owner", connection_id=mine.id)
    await write_log(monitoring, "about someone else", connection_id=other.id)
    await sign_in(user)
    with user.scope(marker=f"connection-{mine.id}"):
        user.find(marker="card-logs").click()
    await user.should_see(marker="log-tail-state", content="Following", retries=WAIT)
    await user.should_see("about the card owner")
    await user.should_not_see("about someone else")
    await user.should_see(marker="log-filter-connection", content="Card owner")


async def test_pause_stops_the_tail_and_resume_catches_up(
    user: User, monitoring: MonitoringStub, dashboard_server: ServerThread
) -> None:
    assert dashboard_server.server is not None
    streams = dashboard_server.server.log_topic
    await open_logs(user)
    await write_log(monitoring, "written while following")
    await user.should_see("written while following", retries=WAIT)  # live, no reload
    assert streams.subscriber_count == 1  # the page's tail

    user.find(marker="log-pause").click()
    await user.should_see(marker="log-tail-state", content="Paused")
    for _ in range(WAIT):  # the page cancelled its stream: the server let go of it
        if streams.subscriber_count == 0:
            break
        await asyncio.sleep(0.1)
    assert streams.subscriber_count == 0
    missed = await write_log(monitoring, "written while paused")
    assert missed.id > 0  # stored: it waits for the page in the log, not in a stream
    await user.should_not_see("written while paused")

    user.find(marker="log-pause").click()  # Resume
    await user.should_see("written while paused", retries=WAIT)
    await user.should_see(marker="log-tail-state", content="Following new entries live")
    assert streams.subscriber_count == 1
    await write_log(monitoring, "written after resuming")
    await user.should_see("written after resuming", retries=WAIT)


async def test_older_entries_are_paged_in_below_the_newest(
    user: User, stub: Stub, monitoring: MonitoringStub
) -> None:
    paged = await create(stub, "Paged")
    for number in range(105):
        await write_log(monitoring, f"paged entry {number:03d}.", connection_id=paged.id)
    await open_logs(user, f"/logs?connection={paged.id}")
    await shown(user, 100)  # a page
    await user.should_see("paged entry 104.")
    await user.should_see("paged entry 005.")
    await user.should_not_see("paged entry 004.")

    user.find(marker="log-older").click()
    await user.should_see("paged entry 000.", retries=WAIT)
    await user.should_see("paged entry 004.")
    await user.should_not_see(marker="log-older")  # nothing older is left
    # Newest first, the older page below the first one, each entry once.
    lines = sorted(user.find(marker="log-message").elements, key=lambda e: e.id)
    texts = [line.text for line in lines if isinstance(line, ui.label)]
    assert [t for t in texts if t.startswith("paged entry")] == [
        f"paged entry {n:03d}." for n in range(104, -1, -1)
    ]


async def test_a_stack_trace_opens_under_its_entry(user: User, monitoring: MonitoringStub) -> None:
    # Any record of the server's process goes through its log pipeline, with its traceback.
    try:
        raise RuntimeError("the disk is on fire")
    except RuntimeError:
        logging.getLogger("cts.engine").warning("a failure with a stack trace", exc_info=True)
    await open_logs(user)
    await user.should_see("a failure with a stack trace", retries=WAIT)
    listed = await monitoring.ListLogs(
        pb.ListLogsRequest(text="a failure with a stack trace"), metadata=auth()
    )
    (entry,) = listed.entries
    assert "RuntimeError: the disk is on fire" in entry.stack
    with user.scope(marker=f"log-entry-{entry.id}"):
        await user.should_see(marker="log-category", content="engine")
        await user.should_not_see(marker="log-stack")
        user.find(marker="log-stack-toggle").click()
        await user.should_see(marker="log-stack", content="RuntimeError: the disk is on fire")
        await user.should_see(marker="log-stack", content="Traceback (most recent call last)")
        user.find(marker="log-stack-toggle").click()
        await user.should_not_see(marker="log-stack")


async def test_an_unknown_connection_is_said_and_nothing_is_followed(
    user: User, dashboard_server: ServerThread
) -> None:
    assert dashboard_server.server is not None
    await sign_in(user)
    unknown = "00000000-0000-4000-8000-000000000000"
    await user.open(f"/logs?connection={unknown}")
    await user.should_see(
        marker="log-tail-state", content=f"Stopped: connection '{unknown}' not found", retries=WAIT
    )
    await user.should_see(marker="log-empty", content="The log could not be read")
    assert dashboard_server.server.log_topic.subscriber_count == 0
