"""A real gunicorn serving wsgi:app in a subprocess, for tests that meet the service as its
users do: over HTTP, with several workers where that matters."""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds for gunicorn to boot and migrate an empty database, when busy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int, workers: int = 1, threads: int = 2,
                     python: str = sys.executable, app: str = "wsgi:app") -> list[str]:
    """gunicorn as `python` runs it (the tests' own, or another virtualenv's), serving `app`
    with gunicorn.conf.py."""
    command = [python, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads), "--access-logfile", "-"]
    if python == sys.executable:
        version = importlib.metadata.version("gunicorn")
    else:
        version = subprocess.run([python, "-c", "import gunicorn; print(gunicorn.__version__)"],
                                 capture_output=True, text=True, check=True).stdout
    if int(version.split(".")[0]) >= 27:
        # 27 added a control socket in ~/.gunicorn; a test server has no use for it.
        command.append("--no-control-socket")
    return [*command, app]


def request(url: str, data: bytes | None = None, headers: dict | None = None,
            method: str | None = None, timeout: float = 10) -> tuple[int, bytes]:
    call = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def raw_answer(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the answer's status, headers (by lower-case name) and body,
    read until the server closes the connection."""
    sock.sendall(request)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


def get(url: str) -> tuple[int, bytes]:
    return request(url)


class Server:
    def __init__(self, process: subprocess.Popen, base: str, log: Path):
        self.process, self.base, self.log = process, base, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_healthy(server: Server) -> bool:
    """True once the server answers its health check; False when gunicorn gave up a port that
    another process took first (it says so at once, and is stopped here)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if b"Connection in use" in server.log.read_bytes():
            stop(server.process)
            return False
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.output()}")
        try:
            if get(f"{server.base}/healthz")[0] == 200:
                return True
        except (OSError, http.client.HTTPException):  # not up yet, or another's port
            pass
        time.sleep(0.1)
    pytest.fail(f"no answer from {server.base}/healthz in {START_TIMEOUT}s:\n{server.output()}")


@contextlib.contextmanager
def gunicorn(directory: Path, settings: dict[str, str], workers: int = 1,
             threads: int = 2, python: str = sys.executable) -> Iterator[Server]:
    """gunicorn on a free port with an environment of `settings` over a clean one (no
    ENGAGEMENT_* from the shell), on an empty SQLite file that it migrates itself unless
    `settings` names another DATABASE_URL."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ENGAGEMENT_")}
    environment.pop("WEB_CONCURRENCY", None)
    environment.update({
        "DATABASE_URL": f"sqlite:///{directory / 'engagement.sqlite3'}",
        # An explicit DATABASE_URL turns migration on start off; these servers have it on.
        "ENGAGEMENT_AUTO_MIGRATE": "true",
        "ENGAGEMENT_SECRET_KEY": "live-test-secret",
        **settings,
    })
    log = directory / "gunicorn.log"
    # A free port may be taken by another test's server before gunicorn binds it: gunicorn
    # then gives up, and starts again on another.
    for _ in range(3):
        port = free_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                gunicorn_command(port, workers, threads, python), cwd=ROOT, env=environment,
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        running = Server(process, f"http://127.0.0.1:{port}", log)
        try:
            if wait_until_healthy(running):
                break
        except BaseException:
            stop(process)
            raise
    try:
        yield running
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Terminate a server process, and kill it if it will not go."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
