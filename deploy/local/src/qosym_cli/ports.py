"""Free TCP ports and quick connection checks on 127.0.0.1."""

from __future__ import annotations

import random
import socket

HOST = "127.0.0.1"
_RANDOM = random.SystemRandom()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
LOWEST_PORT = 10_000


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands to outgoing connections (Linux's default 32768–60999)."""
    try:
        with open(EPHEMERAL_RANGE_FILE) as f:
            low, high = (int(n) for n in f.read().split())
    except (OSError, ValueError):
        return (32_768, 60_999)
    return (low, high)


def free_port(taken: set[int]) -> int:
    """A port the OS says is free, that this run has not handed out already, and below the ephemeral range.

    A listening port from the ephemeral range can be taken while its server is down: by any process's outgoing
    connection, or by a client retrying it that connects to itself (same source and destination port, which the
    kernel allows). A server restarted on its port then finds it in use (tansu answers AddrInUse and panics)."""
    low, _ = ephemeral_range()
    if low - LOWEST_PORT >= 1_000:
        for _ in range(1_000):
            port = _RANDOM.randrange(LOWEST_PORT, low)
            if port not in taken and port_is_free(port):
                taken.add(port)
                return port
    while True:  # no room below the ephemeral range: what the OS picks
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def reuse_or_pick(previous: int | None, taken: set[int]) -> int:
    if previous is not None and previous not in taken and port_is_free(previous):
        taken.add(previous)
        return previous
    return free_port(taken)


def accepts_connections(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
