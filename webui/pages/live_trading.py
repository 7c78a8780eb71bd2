"""The Live trading page: one connection's engine in detail, with its commands, and every
engine at a glance. Kept live by the engine stream and the connection stream; nothing polls.

The server does not build positions, per-symbol signals or PnL yet, so none are shown.
"""

from __future__ import annotations

from cts.engine.v1 import engine_pb2 as pb
from nicegui import app, ui

from webui import session
from webui.backend import Backend, BackendError
from webui.components.engine_overview import EngineOverview
from webui.components.engine_panel import EnginePanel
from webui.feeds import EngineUpdate, Feeds, FeedUpdate, UpdateKind
from webui.frame import frame

PICKED_KEY = "live_trading_connection"  # the connection last picked, per browser
RPCS = {
    "start": ("StartEngine", "started"),
    "pause": ("PauseEngine", "paused"),
    "resume": ("ResumeEngine", "resumed"),
    "stop": ("StopEngine", "stopped"),
}


def register(backend: Backend, feeds: Feeds) -> None:
    @ui.page("/live-trading")
    def live_trading_page() -> None:
        token = session.current_token()
        if token is None:  # the middleware redirects first; this is a second line
            ui.navigate.to("/login")
            return
        connection_feed = feeds.connections(token)
        engine_feed = feeds.engines(token)
        for feed in (connection_feed, engine_feed):
            feed.attach()
            ui.context.client.on_delete(feed.detach)
        picked: str | None = app.storage.user.get(PICKED_KEY)
        options: dict[str, str] = {}

        async def command(name: str) -> None:
            connection = connection_feed.connections.get(picked or "")
            if connection is None:
                return
            method, verb = RPCS[name]
            request = pb.EngineCommand(connection_id=connection.id)
            try:
                await backend.call(getattr(backend.engines, method), request, token)
            except BackendError as error:
                ui.notify(error.message, type="negative", multi_line=True)
                return
            ui.notify(f"{connection.name}: engine {verb}", type="positive")

        def pick(connection_id: str | None) -> None:
            nonlocal picked
            picked = connection_id if connection_id in connection_feed.connections else None
            app.storage.user[PICKED_KEY] = picked
            if chooser.value != picked:
                chooser.set_value(picked)  # calls pick again, with the same id
            show_panel()

        def show_panel() -> None:
            connection = connection_feed.connections.get(picked or "")
            panel.card.set_visibility(connection is not None)
            nothing_picked.set_visibility(connection is None)
            if connection is not None:
                panel.update(connection, engine_feed.status(connection.id))

        def show_options() -> None:
            wanted = {c.id: c.name for c in connection_feed.ordered()}
            if wanted != options:  # health updates change nothing here
                options.clear()
                options.update(wanted)
                chooser.set_options(dict(options), value=picked if picked in options else None)

        def show_all() -> None:
            overview.clear()
            for connection in connection_feed.ordered():
                overview.show(connection, engine_feed.status(connection.id))

        def on_connection(update: FeedUpdate) -> None:
            show_options()
            connection = update.connection
            if update.kind is UpdateKind.RESET or connection is None:
                show_all()
            elif update.kind is UpdateKind.UPSERT:
                overview.show(connection, engine_feed.status(connection.id))
            else:
                overview.remove(connection.id)
            if picked is not None and picked not in connection_feed.connections:
                pick(None)
            elif update.kind is UpdateKind.RESET or (connection and connection.id == picked):
                show_panel()

        def on_engine(update: EngineUpdate) -> None:
            if update.kind is UpdateKind.RESET or update.engine is None:
                show_all()
                show_panel()
                return
            connection = connection_feed.connections.get(update.engine.connection_id)
            if connection is not None:
                overview.show(connection, engine_feed.status(connection.id))
                if connection.id == picked:
                    show_panel()

        with frame("Live trading", [connection_feed, engine_feed]):
            with ui.row().classes("w-full items-end gap-3"):
                chooser = (
                    ui.select(
                        {}, label="Connection", on_change=lambda e: pick(e.value), with_input=True
                    )
                    .classes("w-80")
                    .mark("engine-connection")
                )
            nothing_picked = ui.label("Pick a connection to see its engine.").classes(
                "text-gray-600"
            )
            panel = EnginePanel(command)
            overview = EngineOverview(pick)
        show_options()
        show_all()
        show_panel()
        connection_feed.updated.subscribe(on_connection)
        engine_feed.updated.subscribe(on_engine)
