"""Injected faults for the fault tests (issue 12): a port nobody listens on (a dead Redis
or mail server), a hung server (accepts connections, never answers: a hung Redis or SMTP
server), a Redis of our own on a free port that a test may stop, and a mail server that
records what it accepted. Ports are chosen at runtime; the shared Redis (6379) and
PostgreSQL are never touched."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_url(scheme: str = "redis") -> str:
    """Nothing listens there: connections are refused at once."""
    return f"{scheme}://127.0.0.1:{free_port()}/0"


@dataclass
class HungServer:
    port: int
    accepted: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def hung_server() -> Iterator[HungServer]:
    """Accepts every connection and never sends a byte (nor reads one)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    server = HungServer(port=listener.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            server.accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in server.accepted:
            conn.close()
        listener.close()


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen | None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def start(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")


@contextlib.contextmanager
def own_redis(workdir: Path) -> Iterator[OwnRedis]:
    """A Redis of this test's own on a free port (skips when redis-server is missing)."""
    import pytest

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = OwnRedis(port=free_port(), process=None)
    redis.start(workdir)
    try:
        yield redis
    finally:
        redis.stop()


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """This process publishes tasks to ``url`` (not eagerly) for the block."""
    from careplan import celery_app, outbox

    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager

    def reset_pools() -> None:
        # Drop (not close) the app's pools: kombu keeps producer pools in a registry
        # keyed by connection, and a closed one would be handed out again.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        outbox._broker_down_until[0] = 0.0

    reset_pools()
    conf.broker_url, conf.task_always_eager = url, False
    try:
        yield
    finally:
        reset_pools()
        conf.broker_url, conf.task_always_eager = saved


class RecordingSmtp:
    """A small SMTP server that records each message when its DATA is complete, before
    it answers: ``reply_delay`` seconds later it says 250 (a worker killed in between
    has had its message accepted without knowing). ``trickle``: the greeting comes one
    byte every half second and never ends (a socket timeout never fires)."""

    def __init__(self, *, reply_delay: float = 0.0, trickle: bool = False) -> None:
        import socketserver

        self.reply_delay = reply_delay
        self.trickle = trickle
        self.messages: list[bytes] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    owner._serve(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def message_ids(self) -> list[str]:
        import re

        found = []
        for raw in self.messages:
            match = re.search(rb"^Message-ID:\s*(\S+)", raw, re.IGNORECASE | re.MULTILINE)
            found.append(match.group(1).decode() if match else "")
        return found

    def _serve(self, rfile, wfile) -> None:
        if self.trickle:
            while True:
                wfile.write(b"2")
                wfile.flush()
                time.sleep(0.5)
        wfile.write(b"220 test ESMTP\r\n")
        wfile.flush()
        while line := rfile.readline():
            command = line[:4].upper()
            if command == b"DATA":
                wfile.write(b"354 end with .\r\n")
                wfile.flush()
                data = []
                while (chunk := rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                self.messages.append(b"".join(data))
                time.sleep(self.reply_delay)
                wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                wfile.write(b"221 bye\r\n")
                wfile.flush()
                return
            else:
                wfile.write(b"250 ok\r\n")
            wfile.flush()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
