"""The client address of a call: the connection's peer, or, when the peer is a trusted proxy
(Envoy), the address the proxy put last in ``x-forwarded-for``.

Envoy runs with ``use_remote_address: true``: it appends the address of the connection it
accepted to ``x-forwarded-for``, so the last entry is the one Envoy saw and anything before it is
whatever the client claimed (ignored here).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

Metadata = Sequence[tuple[str, str | bytes]]


def peer_host(peer: str) -> str:
    """``ipv4:127.0.0.1:5000`` → ``127.0.0.1``, ``ipv6:[::1]:5000`` → ``::1``; other peers
    (``unix:…``) as they are."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        host = rest.rpartition(":")[0]
        return host[1:-1] if host.startswith("[") else host
    return peer


class ClientAddresses:
    """Finds a call's client address, trusting ``x-forwarded-for`` only from ``proxies``
    (addresses or networks, such as ``127.0.0.1`` or ``10.0.0.0/8``)."""

    def __init__(self, proxies: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(p, strict=False) for p in proxies)
        self.trusted = functools.lru_cache(maxsize=1024)(self._trusted)

    def _trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def of(self, peer: str, metadata: Metadata | None) -> str:
        host = peer_host(peer)
        if not self._networks or not self.trusted(host):
            return host
        forwarded = [value for key, value in metadata or () if key == "x-forwarded-for"]
        if not forwarded:
            return host
        last = forwarded[-1]
        text = last.decode("latin-1") if isinstance(last, bytes) else last
        try:
            return str(ipaddress.ip_address(text.rpartition(",")[2].strip()))
        except ValueError:
            return host
