"""The connection domain over real storage (SQLite and PostgreSQL), without a transport."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from server.app import prepare_storage
from server.connections.health import ConnectionHealth, HealthStatus, RateUsage
from server.connections.repository import ConnectionRepository
from server.connections.rules import connection_filter
from server.connections.seeds import PREDEFINED, seed_predefined
from server.connections.view import ConnectionFilter, ConnectionView
from server.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from tests.conftest import make_settings
from tests.support.book import Book, open_book
from tests.support.storage import dump

BASE = {"exchange": "bybit", "api_type": "perpetual_futures"}


@pytest.fixture
async def book(database_url: str) -> AsyncIterator[Book]:
    opened = await open_book(database_url)
    yield opened
    opened.close()


def fields(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, **BASE, **extra}


def violations(error: InvalidArgument) -> dict[str, str]:
    return {v.field: v.description for v in error.violations}


async def test_create_applies_defaults_and_hides_credentials(book: Book) -> None:
    view = await book.connections.create(
        fields("  Main  ", api_key="KEY-0123456789abcd", api_secret="s")
    )
    assert view.name == "Main"  # trimmed
    assert (view.connection_method, view.authentication_type) == ("library", "api_key_secret")
    assert (view.margin_type, view.position_mode, view.preset_type) == (
        "cross",
        "one-way",
        "default",
    )
    assert view.volume_factor == Decimal(1) and view.leverage == 1
    assert not (
        view.is_enabled
        or view.is_active
        or view.is_live_trade
        or view.is_testnet
        or view.is_predefined
    )
    assert view.has_credentials and not view.has_passphrase
    assert view.api_key_hint == "****abcd"
    assert view.created_at == view.updated_at or view.updated_at >= view.created_at
    assert not hasattr(view, "api_key") and not hasattr(view, "api_secret")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"exchange": "mtgox"}, "exchange"),
        ({"api_type": "futures"}, "api_type"),
        ({"margin_type": "portfolio"}, "margin_type"),
        ({"position_mode": "oneway"}, "position_mode"),
        ({"volume_factor": "0"}, "volume_factor"),
        ({"volume_factor": "101"}, "volume_factor"),
        ({"volume_factor": "abc"}, "volume_factor"),
        ({"volume_factor": "NaN"}, "volume_factor"),
        ({"volume_factor": "0.000000001"}, "volume_factor"),
        ({"leverage": 0}, "leverage"),
        ({"leverage": 126}, "leverage"),
        ({"preset_type": "yolo"}, "preset_type"),
        ({"connection_method": "fax"}, "connection_method"),
        ({"api_key": "k" * 257}, "api_key"),
        ({"api_key": "has space"}, "api_key"),
        ({"api_passphrase": "p" * 129}, "api_passphrase"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_stores_nothing(
    book: Book, bad: dict[str, Any], field: str
) -> None:
    before = dump(book.db.engine)
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.create({**fields("ok"), **bad})
    assert field in violations(caught.value)
    assert dump(book.db.engine) == before


async def test_missing_required_fields_are_named(book: Book) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.create({})
    assert violations(caught.value) == {
        "name": "required",
        "exchange": "required",
        "api_type": "required",
    }


async def test_error_messages_never_echo_credentials(book: Book) -> None:
    secret = "TOP-SECRET-VALUE-" + "x" * 300
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.create(fields("leak", api_key=secret, api_secret=secret))
    assert "TOP-SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_names_are_unique_case_insensitively(book: Book) -> None:
    first = await book.connections.create(fields("Binance Main"))
    before = dump(book.db.engine)
    with pytest.raises(AlreadyExists) as caught:
        await book.connections.create(fields(" binance main "))
    assert caught.value.reason == "CONNECTION_NAME_TAKEN"
    other = await book.connections.create(fields("Other"))
    with pytest.raises(AlreadyExists):
        await book.connections.update(str(other.id), {"name": "BINANCE MAIN"})
    renamed = await book.connections.update(str(first.id), {"name": "binance MAIN"})  # its own name
    assert renamed.name == "binance MAIN"
    assert len(dump(book.db.engine)["connections"]) == len(before["connections"]) + 1


async def test_creates_at_once_with_one_name_make_one_connection(book: Book) -> None:
    """Creates commit side by side (outside the order lock): of several with the same name at
    once, one is made and published, the others are refused as taken, and nothing else is
    stored or told."""
    stored_before = len(dump(book.db.engine)["connections"])
    subscription, _ = book.topic.subscribe()
    made = await asyncio.gather(
        *(book.connections.create(fields(f"Twin{' ' * n}")) for n in range(4)),
        return_exceptions=True,
    )
    created = [m for m in made if isinstance(m, ConnectionView)]
    refused = [m for m in made if isinstance(m, AlreadyExists)]
    assert len(created) == 1 and len(refused) == 3, made
    assert all(r.reason == "CONNECTION_NAME_TAKEN" for r in refused)
    told = subscription.take_ready(10)
    assert [c.key for c in told] == [created[0].id]
    listed = await book.connections.list(ConnectionFilter())
    assert [v.name for v in listed.connections].count("Twin") == 1
    assert len(dump(book.db.engine)["connections"]) == stored_before + 1
    subscription.close()


async def test_unknown_and_malformed_ids(book: Book) -> None:
    with pytest.raises(NotFound) as caught:
        await book.connections.get(str(uuid.uuid4()))
    assert caught.value.reason == "CONNECTION_NOT_FOUND"
    with pytest.raises(NotFound):
        await book.connections.get("not-a-uuid")
    with pytest.raises(InvalidArgument) as empty:
        await book.connections.get("")
    assert violations(empty.value) == {"id": "required"}
    with pytest.raises(InvalidArgument):
        await book.connections.delete("x" * 65)
    for call in (
        book.connections.update(str(uuid.uuid4()), {"name": "n"}),
        book.connections.delete(str(uuid.uuid4())),
        book.connections.set_enabled(str(uuid.uuid4()), True),
        book.connections.set_active(str(uuid.uuid4()), True),
        book.connections.set_preset_type(str(uuid.uuid4()), "default"),
        book.connections.trading_settings(str(uuid.uuid4())),
    ):
        with pytest.raises(NotFound):
            await call


async def test_list_filters_paginates_and_counts(book: Book) -> None:
    made = []
    for i in range(7):
        made.append(
            await book.connections.create(
                fields(
                    f"c{i}",
                    exchange="okx" if i % 2 else "binance",
                    api_type="spot" if i < 3 else "margin",
                    is_enabled=i % 3 == 0,
                    is_active=i == 6,
                )
            )
        )
    everything = await book.connections.list(ConnectionFilter())
    assert [v.id for v in everything.connections] == [v.id for v in made]  # oldest first
    assert everything.total_size == 7 and everything.next_page_token == ""

    okx = await book.connections.list(connection_filter(exchange="okx"))
    assert {v.name for v in okx.connections} == {"c1", "c3", "c5"}
    spot_enabled = await book.connections.list(connection_filter(api_type="spot", enabled=True))
    assert [v.name for v in spot_enabled.connections] == ["c0"]
    assert [
        v.name for v in (await book.connections.list(connection_filter(active=True))).connections
    ] == ["c6"]
    disabled = await book.connections.list(connection_filter(enabled=False))
    assert disabled.total_size == 4

    pages, token = [], ""
    while True:
        page = await book.connections.list(ConnectionFilter(), page_size=3, page_token=token)
        assert page.total_size == 7
        pages.append([v.name for v in page.connections])
        token = page.next_page_token
        if not token:
            break
    assert pages == [["c0", "c1", "c2"], ["c3", "c4", "c5"], ["c6"]]

    first = await book.connections.list(connection_filter(exchange="okx"), page_size=1)
    with pytest.raises(InvalidArgument) as mismatch:
        await book.connections.list(
            ConnectionFilter(), page_size=1, page_token=first.next_page_token
        )
    assert "page_token" in violations(mismatch.value)
    with pytest.raises(InvalidArgument):
        await book.connections.list(ConnectionFilter(), page_token="garbage!")
    with pytest.raises(InvalidArgument) as negative:
        await book.connections.list(ConnectionFilter(), page_size=-1)
    assert "page_size" in violations(negative.value)
    with pytest.raises(InvalidArgument):
        connection_filter(exchange="mtgox")
    with pytest.raises(InvalidArgument):
        connection_filter(api_type="swap")


async def test_update_changes_only_what_is_given(book: Book) -> None:
    view = await book.connections.create(
        fields("u", margin_type="isolated", leverage=5, api_key="KEY-0123456789", api_secret="S")
    )
    changed = await book.connections.update(
        str(view.id), {"volume_factor": "2.5", "is_enabled": True}
    )
    assert changed.volume_factor == Decimal("2.5") and changed.is_enabled
    assert (changed.margin_type, changed.leverage, changed.name) == ("isolated", 5, "u")
    assert changed.has_credentials and changed.api_key_hint == view.api_key_hint
    assert changed.updated_at > view.updated_at and changed.created_at == view.created_at

    reset = await book.connections.update(
        str(view.id), {"leverage": None}
    )  # named but unset: default
    assert reset.leverage == 1

    replaced = await book.connections.update(str(view.id), fields("u2"), replace_all=True)
    assert (replaced.margin_type, replaced.volume_factor, replaced.is_enabled) == (
        "cross",
        Decimal(1),
        False,
    )
    assert replaced.has_credentials  # credentials change only when sent

    with pytest.raises(InvalidArgument) as caught:
        await book.connections.update(str(view.id), {"name": "only"}, replace_all=True)
    assert set(violations(caught.value)) == {"exchange", "api_type"}


async def test_credentials_are_replaced_or_removed_only_when_sent(book: Book) -> None:
    view = await book.connections.create(
        fields("creds", api_key="FIRST-KEY-0001", api_secret="s1", api_passphrase="p1")
    )
    assert view.has_passphrase
    newer = await book.connections.update(str(view.id), {"api_key": "SECOND-KEY-0002"})
    assert newer.api_key_hint == "****0002" and newer.has_credentials
    no_phrase = await book.connections.update(str(view.id), {"api_passphrase": ""})
    assert not no_phrase.has_passphrase and no_phrase.has_credentials
    bare = await book.connections.update(str(view.id), {"api_key": "", "api_secret": ""})
    assert not bare.has_credentials and bare.api_key_hint == ""


async def test_a_target_is_kept_until_its_connections_next_commit(book: Book) -> None:
    """Exchange calls take the connection's target (its credentials opened) from memory once
    read; every commit of the connection (new credentials, a test result, a toggle) makes the
    next one read storage again, and a deleted connection's target is gone."""
    view = await book.connections.create(fields("kept", api_key="FIRST-KEY-0001", api_secret="s1"))
    cid = str(view.id)
    first = await book.connections.target(cid)
    assert first.credentials is not None and first.credentials.api_key == "FIRST-KEY-0001"
    assert await book.connections.target(cid) is first  # kept: no second read

    await book.connections.update(cid, {"api_key": "SECOND-KEY-0002", "api_secret": "s2"})
    second = await book.connections.target(cid)
    assert second.credentials is not None
    assert (second.credentials.api_key, second.credentials.secret) == ("SECOND-KEY-0002", "s2")
    await book.connections.set_enabled(cid, True)
    again = await book.connections.target(cid)
    assert again is not second and again == second  # read anew after the commit, same row
    await book.connections.update(cid, {"api_key": "", "api_secret": ""})
    assert (await book.connections.target(cid)).credentials is None

    await book.connections.delete(cid)
    with pytest.raises(NotFound):
        await book.connections.target(cid)


async def test_live_trading_needs_confirmation_and_credentials(book: Book) -> None:
    with pytest.raises(InvalidArgument) as on_create:
        await book.connections.create(fields("live", is_live_trade=True))
    assert "is_live_trade" in violations(on_create.value)

    bare = await book.connections.create(fields("bare"))
    with pytest.raises(InvalidArgument) as unconfirmed:
        await book.connections.set_live_trade(str(bare.id), True, confirmed=False)
    assert unconfirmed.value.reason == "LIVE_TRADE_NOT_CONFIRMED"
    assert "confirm" in violations(unconfirmed.value)
    with pytest.raises(FailedPrecondition) as missing:
        await book.connections.set_live_trade(str(bare.id), True, confirmed=True)
    assert missing.value.reason == "CREDENTIALS_MISSING"
    with pytest.raises(InvalidArgument):
        await book.connections.set_live_trade(str(bare.id), None, confirmed=True)

    keyed = await book.connections.create(fields("keyed", api_key="KEY-0123456789", api_secret="S"))
    with pytest.raises(InvalidArgument):  # an update cannot switch it on
        await book.connections.update(str(keyed.id), {"is_live_trade": True})
    on = await book.connections.set_live_trade(str(keyed.id), True, confirmed=True)
    assert on.is_live_trade
    same = await book.connections.update(
        str(keyed.id), {"is_live_trade": True, "name": "keyed2"}
    )  # already on
    assert same.is_live_trade and same.name == "keyed2"
    before = dump(book.db.engine)
    with pytest.raises(FailedPrecondition) as clearing:
        await book.connections.update(str(keyed.id), {"api_secret": ""})
    assert clearing.value.reason == "LIVE_TRADE_ON"
    assert dump(book.db.engine) == before
    off = await book.connections.update(str(keyed.id), {"is_live_trade": False})
    assert not off.is_live_trade
    assert not (
        await book.connections.set_live_trade(str(keyed.id), False, confirmed=False)
    ).is_live_trade


async def test_toggle_activate_and_idempotence(book: Book) -> None:
    view = await book.connections.create(fields("t"))
    subscription, _ = book.topic.subscribe()
    flipped = await book.connections.set_enabled(str(view.id), None)
    assert flipped.is_enabled
    assert (await book.connections.set_enabled(str(view.id), None)).is_enabled is False
    explicit = await book.connections.set_enabled(str(view.id), True)
    again = await book.connections.set_enabled(str(view.id), True)
    assert (
        again.is_enabled and again.updated_at == explicit.updated_at
    )  # nothing changed, nothing written
    active = await book.connections.set_active(str(view.id), True)
    assert active.is_active
    assert (await book.connections.set_active(str(view.id), True)).updated_at == active.updated_at
    assert not (await book.connections.set_active(str(view.id), False)).is_active
    published = []
    while subscription._buffer:
        published.append(await subscription.next())
    assert len(published) == 5  # flip, flip, enable, activate, deactivate: no-ops publish nothing


async def test_trading_settings(book: Book) -> None:
    view = await book.connections.create(fields("s"))
    settings = await book.connections.trading_settings(str(view.id))
    assert (
        settings.margin_type,
        settings.position_mode,
        settings.volume_factor,
        settings.leverage,
    ) == ("cross", "one-way", Decimal(1), 1)
    changed = await book.connections.update_trading_settings(
        str(view.id), {"margin_type": "isolated", "leverage": 20}
    )
    assert (changed.margin_type, changed.leverage, changed.volume_factor) == (
        "isolated",
        20,
        Decimal(1),
    )
    assert (await book.connections.get(str(view.id))).leverage == 20
    before = dump(book.db.engine)
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.update_trading_settings(
            str(view.id), {"volume_factor": "-1", "position_mode": "x"}
        )
    assert set(violations(caught.value)) == {"volume_factor", "position_mode"}
    assert dump(book.db.engine) == before
    with pytest.raises(InvalidArgument):
        await book.connections.update_trading_settings(str(view.id), {"name": "not a setting"})


async def test_preset_type(book: Book) -> None:
    view = await book.connections.create(fields("p"))
    assert (
        await book.connections.set_preset_type(str(view.id), "conservative")
    ).preset_type == "conservative"
    for bad in ("", "yolo"):
        with pytest.raises(InvalidArgument) as caught:
            await book.connections.set_preset_type(str(view.id), bad)
        assert "preset_type" in violations(caught.value)


async def test_every_write_publishes_the_new_state_with_the_previous_one(book: Book) -> None:
    subscription, _ = book.topic.subscribe()
    created = await book.connections.create(fields("pub"))
    updated = await book.connections.update(str(created.id), {"leverage": 3})
    await book.connections.delete(str(created.id))
    first, second, third = [await subscription.next() for _ in range(3)]
    assert (first.previous, first.current, first.deleted) == (None, created, False)
    assert (second.previous, second.current) == (created, updated)
    assert (third.current, third.deleted) == (updated, True)
    assert first.revision < second.revision < third.revision
    with pytest.raises(NotFound):
        await book.connections.get(str(created.id))


def test_predefined_connections_are_seeded_once_and_deletions_stick(
    database_url: str, tmp_path: Any
) -> None:
    settings = make_settings(tmp_path / "data", database_url=database_url)
    db, _ = prepare_storage(settings)
    try:
        rows = dump(db.engine)["connections"]
        names = sorted(str(r[1]) for r in rows)
        assert names == sorted(name for _, name, _, _ in PREDEFINED)
        views = db.read_now(lambda s: ConnectionRepository(s).all())
        assert all(v.is_predefined and not v.is_enabled and v.api_key_sealed is None for v in views)
        bybit = next(v for v in views if v.name == "Bybit")
        db.write_now(lambda s: s.delete(s.get(type(bybit), bybit.id)))
    finally:
        db.close()
    db, _ = prepare_storage(settings)  # a restart
    try:
        assert sorted(str(r[1]) for r in dump(db.engine)["connections"]) == [
            "BingX",
            "OrangeX",
            "Pionex",
        ]
        assert db.write_now(seed_predefined) == []
    finally:
        db.close()


async def test_the_read_model_matches_storage_after_a_restart(
    book: Book, database_url: str
) -> None:
    made = await book.connections.create(fields("r1", api_key="RESTART-KEY-0001", api_secret="s"))
    other = await book.connections.create(fields("r2", exchange="okx"))
    await book.connections.update(str(made.id), {"volume_factor": "3.125", "is_enabled": True})
    await book.connections.set_live_trade(str(made.id), True, confirmed=True)
    await book.connections.update_trading_settings(str(made.id), {"leverage": 7})
    await book.connections.delete(str(other.id))
    served = await book.connections.all()
    restarted = await open_book(database_url)  # a new server process over the same storage
    try:
        assert await restarted.connections.all() == served
        assert [v.name for v in served] == ["r1"] and served[0].leverage == 7
    finally:
        restarted.close()


@pytest.mark.parametrize(
    ("exchange", "api_type", "words"),
    [
        ("okx", "options", "CTS supports okx as"),
        ("bybit", "options", "CTS supports bybit as"),
        ("kraken", "margin", "CTS supports kraken as spot"),
        ("orangex", "spot", "CTS supports orangex as perpetual_futures"),
    ],
)
async def test_a_pair_cts_cannot_trade_is_refused_when_made_naming_what_is_supported(
    book: Book, exchange: str, api_type: str, words: str
) -> None:
    before = dump(book.db.engine)
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.create(fields("unsupported", exchange=exchange, api_type=api_type))
    assert words in violations(caught.value)["api_type"]
    assert caught.value.reason == "UNSUPPORTED_API_TYPE"
    assert dump(book.db.engine) == before
    made = await book.connections.create(fields("supported", exchange="okx", api_type="spot"))
    with pytest.raises(InvalidArgument) as caught:
        await book.connections.update(str(made.id), {"exchange": exchange, "api_type": api_type})
    assert words in violations(caught.value)["api_type"]
    # A predefined connection can still be renamed.
    predefined = [c for c in book.connections.views() if c.exchange == "orangex"]
    for connection in predefined:
        renamed = await book.connections.update(str(connection.id), {"name": "OrangeX (later)"})
        assert renamed.name == "OrangeX (later)"


async def test_health_recorded_while_the_order_lock_is_held_goes_out_together_after_it(
    book: Book,
) -> None:
    first = await book.connections.create(fields("first"))
    second = await book.connections.create(fields("second"))
    subscription, _ = book.topic.subscribe()

    def checked(view: ConnectionView, count: int) -> ConnectionHealth:
        rate = RateUsage(0, 10, 0, 120, 0, 5, 0.0)
        return ConnectionHealth(
            HealthStatus.HEALTHY, None, "ok", 1.0, count, 0, 100.0, rate, "closed", count, ""
        )

    async with book.topic.ordered():  # e.g. a create waiting for storage
        recorders = [
            asyncio.ensure_future(book.connections.record_health(view.id, checked(view, n)))
            for view, n in ((first, 1), (second, 1), (first, 2))
        ]
        for _ in range(3):
            await asyncio.sleep(0)
        assert not any(r.done() for r in recorders)  # each waits for its health to go out
        assert subscription.take_ready(10) == []
    async with asyncio.timeout(10):
        await asyncio.gather(*recorders)
    published = subscription.take_ready(10)
    # one change per connection, its latest health
    assert [(c.key, c.current.health.check_count) for c in published] == [
        (first.id, 2),
        (second.id, 1),
    ]
    assert book.connections.cached(first.id).health.check_count == 2  # type: ignore[union-attr]
    subscription.close()
