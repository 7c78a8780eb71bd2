"""A real CTS server in front of a real exchange simulator, and helpers to drive them."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from cts.connection.v1 import connection_pb2 as pb
from cts.connection.v1 import connection_pb2_grpc

from server.simulator.ledger import Account, Permissions
from server.simulator.server import RequestRecord, Simulator
from tests.conftest import auth, make_settings
from tests.support.server_thread import ServerThread
from tests.support.simulator_thread import SimulatorThread

# Every exchange with full support, each with one of its API types (the other is covered by
# the simulator's own tests and by the batch test).
EXCHANGES = ("binance", "bybit", "okx")
API_TYPES = {"binance": "spot", "bybit": "perpetual_futures", "okx": "perpetual_futures"}
BALANCES: dict[str, Decimal | str | int] = {"USDT": Decimal("12345.67"), "BTC": Decimal("0.5")}

Stub = connection_pb2_grpc.ConnectionServiceStub


class Desk:
    """A CTS server (gRPC stub) and the simulator its connections talk to."""

    _names = itertools.count(1)

    def __init__(
        self, channel: grpc.aio.Channel, server: ServerThread, sim: SimulatorThread
    ) -> None:
        self.channel = channel
        self.stub = Stub(channel)
        self.server = server
        self.sim = sim

    @property
    def simulator(self) -> Simulator:
        return self.sim.simulator

    def account(
        self, exchange: str, *, permissions: Permissions | None = None, **kwargs: Any
    ) -> Account:
        return self.sim.call(
            lambda: self.simulator.open_account(
                exchange, balances=BALANCES, permissions=permissions, **kwargs
            )
        )

    async def connect(
        self,
        exchange: str,
        account: Account | None = None,
        *,
        api_type: str | None = None,
        secret: str | None = None,
        passphrase: str | None = None,
        **fields: Any,
    ) -> pb.Connection:
        """A simulated connection with the account's keys (or the wrong ones when told)."""
        values: dict[str, Any] = {
            "name": f"{exchange} {next(self._names)}",
            "exchange": exchange,
            "api_type": api_type or API_TYPES[exchange],
            "is_simulated": True,
            **fields,
        }
        if account is not None:
            values["api_key"] = account.api_key
            values["api_secret"] = secret or account.secret
            if account.passphrase is not None:
                values["api_passphrase"] = passphrase or account.passphrase
        request = pb.CreateConnectionRequest(connection=pb.Connection(**values))
        return await self.stub.CreateConnection(request, metadata=auth())  # type: ignore[no-any-return]

    async def test(self, connection_id: str) -> pb.ConnectionTestResult:
        request = pb.TestConnectionRequest(id=connection_id)
        return await self.stub.TestConnection(request, metadata=auth())  # type: ignore[no-any-return]

    async def health(self, **query: str) -> pb.GetConnectionHealthResponse:
        request = pb.GetConnectionHealthRequest(**query)
        return await self.stub.GetConnectionHealth(request, metadata=auth())  # type: ignore[no-any-return]

    def faults(
        self, exchange: str | None = None, api_key: str | None = None, **values: Any
    ) -> None:
        self.sim.call(lambda: self.simulator.faults.set(values, exchange=exchange, api_key=api_key))

    def clear_faults(self) -> None:
        self.sim.call(self.simulator.faults.clear)

    def revoke(self, account: Account) -> None:
        self.sim.call(lambda: setattr(account, "revoked", True))

    def requests(
        self, *, exchange: str | None = None, api_key: str | None = None
    ) -> list[RequestRecord]:
        """What the simulator received (of one exchange, or with one key)."""
        return self.sim.call(
            lambda: [
                r
                for r in self.simulator.requests
                if (exchange is None or r.exchange == exchange)
                and (api_key is None or r.api_key == api_key)
            ]
        )


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Overrides of the server's settings; a test changes them before `desk` starts it."""
    return {}


@pytest.fixture
def desk_server(
    tmp_path: Path, sim: SimulatorThread, server_settings: dict[str, Any]
) -> Iterator[ServerThread]:
    values = {"demo": False, **server_settings}  # no demo connection among the test's own
    settings = make_settings(tmp_path / "data", simulator_url=sim.base_url, **values)
    thread = ServerThread(settings).start()
    yield thread
    thread.stop()


@pytest.fixture
async def desk(desk_server: ServerThread, sim: SimulatorThread) -> AsyncIterator[Desk]:
    async with grpc.aio.insecure_channel(desk_server.target) as channel:
        yield Desk(channel, desk_server, sim)


def busiest_window(times: list[float], span: float = 1.0) -> int:
    """The most requests that any window of ``span`` seconds holds (as the exchange saw them)."""
    ordered = sorted(times)
    most = 0
    for i, start in enumerate(ordered):
        most = max(most, sum(1 for t in ordered[i:] if t < start + span))
    return most
