"""bots.ports.free_port: ports picked ahead of use stay out of the range the OS gives out itself."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bots import ports
from bots.ports import PICK_FROM, free_port


def test_picks_below_the_ephemeral_range_and_never_the_same_port_twice():
    # A port the OS can give out for bind(0) or an outgoing connection could be taken by
    # someone else before the server it was picked for listens on it (CI lost a Temporal dev
    # server that way: its own internal listener got the frontend port picked for it).
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(PICK_FROM <= port < ephemeral_start for port in ports)
    for port in ports[:3]:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()


def test_a_port_something_listens_on_is_not_picked(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        other = free_port()
        picks = iter([taken, other])
        # The random pick lands on the busy port first, then on a free one.
        monkeypatch.setattr(ports.random, "randint", lambda low, high: next(picks))
        monkeypatch.setattr(ports, "_ephemeral_start", lambda: 65536)
        ports._handed_out.discard(other)
        assert free_port() == other
