"""MarketService: protobuf in, domain calls, protobuf out. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from cts.monitoring.v1 import market_pb2 as pb
from cts.monitoring.v1 import market_pb2_grpc

from server.monitoring.prices import Prices, price_query
from server.rpc.market_messages import price_list_message, watch_prices_message


class MarketServicer(market_pb2_grpc.MarketServiceServicer):  # type: ignore[misc]
    def __init__(self, prices: Prices) -> None:
        self._prices = prices

    async def ListPrices(
        self, request: pb.ListPricesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPricesResponse:
        query = price_query(
            exchange=request.exchange,
            api_type=request.api_type,
            symbols=request.symbols,
            is_simulated=request.is_simulated if request.HasField("is_simulated") else None,
            testnet=request.testnet if request.HasField("testnet") else None,
        )
        return price_list_message(self._prices.list(query))

    async def WatchPrices(
        self, request: pb.WatchPricesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchPricesResponse]:
        query = price_query(
            exchange=request.exchange,
            api_type=request.api_type,
            symbols=request.symbols,
            is_simulated=request.is_simulated,
            testnet=request.testnet,
            market_required=True,
        )
        async for item in self._prices.watch(query):
            yield watch_prices_message(item)
