"""The abuse limits on their own, in virtual time (an injected clock): token buckets, the
failed-authentication slowdown, open streams, bounded memory; client addresses; the mapping of
a refusal to gRPC status; the settings."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pydantic import ValidationError

from server.access.limits import (
    ADDRESS_RATE,
    FAILED_AUTH,
    STREAMS,
    TOKEN_RATE,
    Buckets,
    Limits,
    LimitsConfig,
    Rate,
)
from server.errors import RateLimited, ResourceExhausted
from server.rpc.errors import status_of
from server.rpc.peer import ClientAddresses, peer_host
from server.settings import Settings

GOOD = "cts_a-token-this-server-verified"
GUESS = "cts_a-guess"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limits(clock: Clock, **config: object) -> tuple[Limits, list[str]]:
    made = Limits(LimitsConfig(**config), clock=clock)  # type: ignore[arg-type]
    refused: list[str] = []
    made.on_refused.append(refused.append)
    return made, refused


def test_a_bucket_allows_its_burst_then_refuses_until_it_refills(clock: Clock) -> None:
    bucket = Buckets(Rate(per_second=2, burst=3), max_keys=10, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)
    assert bucket.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.25
    assert bucket.take("a") == pytest.approx(0.25)
    clock.now += 0.25
    assert bucket.take("a") == 0.0
    assert bucket.take("a") == pytest.approx(0.5)
    clock.now += 60  # refills to its burst, never beyond
    assert [bucket.take("a") for _ in range(4)][-2:] == [0.0, pytest.approx(0.5)]


def test_a_rate_of_zero_never_refuses(clock: Clock) -> None:
    bucket = Buckets(Rate(per_second=0, burst=1), max_keys=10, clock=clock)
    assert all(bucket.take("a") == 0.0 for _ in range(1000))


def test_memory_is_bounded_by_dropping_the_least_recently_used_key(clock: Clock) -> None:
    bucket = Buckets(Rate(per_second=1, burst=1), max_keys=3, clock=clock)
    for n in range(100):
        bucket.take(f"address {n}")
    assert len(bucket) == 3
    bucket.take("address 97")  # used again: kept
    bucket.take("new")
    assert bucket.take("address 97") > 0  # still remembered (its bucket is empty)
    assert bucket.take("address 98") == 0.0  # dropped, so a fresh bucket


def test_the_token_rate_refuses_with_the_wait_and_counts_the_refusal(clock: Clock) -> None:
    made, refused = limits(clock, token_rate=Rate(10, 2))
    made.admit_token("token-1", GOOD, "10.0.0.1")
    made.admit_token("token-1", GOOD, "10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        made.admit_token("token-1", GOOD, "10.0.0.1")
    assert caught.value.retry_after == pytest.approx(0.1)
    assert caught.value.retry_seconds == 1
    assert caught.value.metadata["limit"] == TOKEN_RATE
    assert "at most 2 at once, then 10 per second" in caught.value.message
    assert GOOD not in caught.value.message
    made.admit_token("token-2", GOOD, "10.0.0.1")  # another token is not affected
    assert refused == [TOKEN_RATE]


def test_a_request_the_token_rate_refuses_does_not_use_up_its_address(clock: Clock) -> None:
    made, refused = limits(clock, token_rate=Rate(0.001, 1), address_rate=Rate(0.001, 3))
    made.admit_address("10.0.0.1")
    made.admit_token("noisy", GOOD, "10.0.0.1")
    for _ in range(50):  # the noisy token, throttled
        made.admit_address("10.0.0.1")
        with pytest.raises(RateLimited):
            made.admit_token("noisy", GOOD, "10.0.0.1")
    for n in range(2):  # its neighbours still have the address's other two
        made.admit_address("10.0.0.1")
        made.admit_token(f"quiet {n}", GOOD, "10.0.0.1")
    with pytest.raises(RateLimited):
        made.admit_address("10.0.0.1")
    assert refused == [TOKEN_RATE] * 50 + [ADDRESS_RATE]


def test_the_address_rate_counts_every_request_of_an_address(clock: Clock) -> None:
    made, refused = limits(clock, address_rate=Rate(0.5, 2))
    made.admit_address("10.0.0.1")
    made.admit_address("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        made.admit_address("10.0.0.1")
    assert caught.value.retry_after == pytest.approx(2.0)
    assert caught.value.metadata == {"limit": ADDRESS_RATE, "retry_after_seconds": "2"}
    made.admit_address("10.0.0.2")
    assert refused == [ADDRESS_RATE]


def test_failed_authentication_locks_the_address_but_not_tokens_it_used_before(
    clock: Clock,
) -> None:
    made, refused = limits(clock, failed_auth=Rate(1, 3))
    made.admit_token("token-1", GOOD, "10.0.0.1")  # this address used a good token before
    for _ in range(3):
        made.admit_attempt("10.0.0.1", GUESS)
        made.failed("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        made.admit_attempt("10.0.0.1", GUESS)
    assert caught.value.metadata["limit"] == FAILED_AUTH
    assert caught.value.retry_after == pytest.approx(1.0)
    made.admit_attempt("10.0.0.1", GOOD)  # a token verified lately still passes
    made.admit_attempt("10.0.0.2", GUESS)  # another address is not slowed
    with pytest.raises(RateLimited):
        made.admit_attempt("10.0.0.1", "cts_a-valid-token-not-seen-lately")
    clock.now += 1.0  # one more attempt per second
    made.admit_attempt("10.0.0.1", GUESS)
    made.failed("10.0.0.1")
    with pytest.raises(RateLimited):
        made.admit_attempt("10.0.0.1", GUESS)
    assert refused == [FAILED_AUTH, FAILED_AUTH, FAILED_AUTH]


def test_a_token_is_vouched_for_only_for_a_while(clock: Clock) -> None:
    made, _ = limits(clock, failed_auth=Rate(0.001, 1), vouched_seconds=60)
    made.admit_token("token-1", GOOD, "10.0.0.1")
    made.failed("10.0.0.1")
    made.admit_attempt("10.0.0.1", GOOD)
    clock.now += 61
    with pytest.raises(RateLimited):
        made.admit_attempt("10.0.0.1", GOOD)


def test_open_streams_per_token_are_capped_and_closing_one_frees_its_place(
    clock: Clock,
) -> None:
    made, refused = limits(clock, streams_per_token=2)
    first, second = made.open_stream("token-1"), made.open_stream("token-1")
    with pytest.raises(ResourceExhausted) as caught:
        made.open_stream("token-1")
    assert "at most 2 per token" in caught.value.message
    assert caught.value.reason == "TOO_MANY_STREAMS"
    other = made.open_stream("token-2")
    assert made.open_streams == 3
    first()
    first()  # giving a place back twice gives back one
    assert made.open_streams == 2
    made.open_stream("token-1")
    assert refused == [STREAMS]
    second(), other()
    assert made.open_streams == 1


def test_no_stream_limit_when_it_is_zero(clock: Clock) -> None:
    made, _ = limits(clock, streams_per_token=0)
    for _ in range(500):
        made.open_stream("token-1")
    assert made.open_streams == 500


def test_a_refusal_maps_to_resource_exhausted_with_retry_info_and_a_retry_after_trailer() -> None:
    status = status_of(
        RateLimited("too many requests; retry in 3 s", retry_after=2.5, metadata={"limit": "x"})
    )
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = dict(status.trailing_metadata)
    assert trailers["retry-after"] == "3"
    rich = rpc_status.status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    found = {}
    for detail in rich.details:
        for kind in (error_details_pb2.RetryInfo, error_details_pb2.ErrorInfo):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    assert found["RetryInfo"].retry_delay.ToMilliseconds() == 2500
    assert found["ErrorInfo"].reason == "RATE_LIMITED"
    assert dict(found["ErrorInfo"].metadata) == {"limit": "x"}


@pytest.mark.parametrize(
    ("peer", "host"),
    [
        ("ipv4:127.0.0.1:50123", "127.0.0.1"),
        ("ipv6:[::1]:50123", "::1"),
        ("unix:/tmp/socket", "unix:/tmp/socket"),
    ],
)
def test_the_peer_host(peer: str, host: str) -> None:
    assert peer_host(peer) == host


def test_x_forwarded_for_is_trusted_only_from_the_proxies_and_only_its_last_entry() -> None:
    addresses = ClientAddresses(["127.0.0.1", "::1", "10.9.0.0/16"])
    envoy = "ipv4:127.0.0.1:5000"
    forwarded = (("x-forwarded-for", "6.6.6.6, 203.0.113.7"),)
    assert addresses.of(envoy, forwarded) == "203.0.113.7"
    assert addresses.of("ipv4:10.9.3.4:5000", forwarded) == "203.0.113.7"
    assert addresses.of("ipv6:[::1]:5000", (("x-forwarded-for", "2001:db8::1"),)) == "2001:db8::1"
    assert addresses.of("ipv4:192.0.2.1:5000", forwarded) == "192.0.2.1"  # not a proxy
    assert addresses.of(envoy, ()) == "127.0.0.1"
    assert addresses.of(envoy, (("x-forwarded-for", "not an address"),)) == "127.0.0.1"
    nobody = ClientAddresses([])
    assert nobody.of(envoy, forwarded) == "127.0.0.1"


def test_the_settings_carry_the_documented_defaults() -> None:
    config = Settings().abuse_limits()
    assert config.token_rate == Rate(50, 100)
    assert config.address_rate == Rate(100, 200)
    assert config.failed_auth == Rate(1, 20)
    assert config.streams_per_token == 50
    assert Settings().trusted_proxies == ["127.0.0.1", "::1"]
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings(trusted_proxies=["envoy.local"])
