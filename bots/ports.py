"""Is a TCP port free? Checked before starting anything that must own its ports.

A bind with SO_REUSEADDR succeeds over sockets left in TIME_WAIT by a previous run
(so a quick restart is not refused) and fails while anything listens there.
"""

from __future__ import annotations

import errno
import os
import random
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class PortClaim:
    """One port this process is about to listen on, and how the operator changes it."""

    host: str
    port: int
    what: str
    variable: str

    def in_use_line(self) -> str:
        return (
            f"port {self.port} on {self.host} ({self.what}) is already in use: stop what listens there, "
            f"or set {self.variable} to a free port"
        )


def bind_error(host: str, port: int) -> OSError | None:
    """Why this process could not listen on host:port now, or None when it could."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            return err
    return None


def claim_problem(claims: list[PortClaim]) -> str | None:
    """One line for the first claim that cannot be listened on, or None when all are free."""
    for claim in claims:
        err = bind_error(claim.host, claim.port)
        if err is None:
            continue
        if err.errno == errno.EADDRINUSE:
            return claim.in_use_line()
        return (
            f"cannot listen on {claim.host}:{claim.port} ({claim.what}): {err.strerror or err}; check {claim.variable}"
        )
    return None


def listens_on(pid: int, port: int) -> bool | None:
    """Does process ``pid`` hold a listening socket on ``port``? None where /proc cannot tell.

    Linux only: the listening sockets' inodes from /proc/net/tcp{,6}, matched against the
    process's open file descriptors. This tells our dev server from another one that
    happens to answer on the same port.
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{inode}]")
        except (OSError, ValueError, IndexError):
            return None
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


#: Where ``free_port`` picks: from here up to just below the kernel's ephemeral range.
PICK_FROM = 10_000
#: Ports this process has handed out already (two picks before either is listened on must differ).
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A free port on ``host`` for a server started a moment later (the SDK's metrics endpoint, tests' servers).

    Picked below the kernel's ephemeral range: a port the OS gives out for ``bind(0)`` can be
    given out again, before our server listens on it, to anyone's ``bind(0)`` or outgoing
    connection. CI lost a Temporal dev server that way: the server's own internal listener,
    placed by the OS, got the frontend port the test had picked, and the server crashed.
    """
    high = _ephemeral_start() - 1
    for _ in range(200 if high > PICK_FROM else 0):
        port = random.randint(PICK_FROM, high)
        if port not in _handed_out and bind_error(host, port) is None:
            _handed_out.add(port)
            return port
    with socket.socket() as sock:  # no room below the ephemeral range: the OS's pick
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
