"""The ports the local stack listens on lie outside the kernel's ephemeral range: a port from that range can be taken
by any client's outgoing connection (or a connection to itself, when clients retry a server that is down), so a
server restarted on its port would find it in use (tansu: AddrInUse, and a panic)."""

from __future__ import annotations

import socket

import pytest

from qosym_cli.ports import HOST, ephemeral_range, free_port, port_is_free, reuse_or_pick

pytestmark = pytest.mark.unit


def test_the_kernels_ephemeral_range_is_read_from_proc() -> None:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = (int(n) for n in f.read().split())
    assert ephemeral_range() == (low, high)


def test_a_free_port_is_below_the_ephemeral_range_free_and_never_handed_out_twice() -> None:
    low, _ = ephemeral_range()
    taken: set[int] = set()
    ports = [free_port(taken) for _ in range(200)]
    assert len(set(ports)) == 200 and set(ports) == taken
    assert all(1024 < port < low for port in ports)
    assert all(port_is_free(port) for port in ports[:20])


def test_a_previous_port_is_kept_while_free_and_replaced_when_something_listens_on_it() -> None:
    taken: set[int] = set()
    port = free_port(set())
    assert reuse_or_pick(port, taken) == port
    with socket.socket() as listening:
        listening.bind((HOST, port))
        listening.listen()
        replaced = reuse_or_pick(port, set())
    assert replaced != port and replaced < ephemeral_range()[0]
