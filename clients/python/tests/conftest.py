# SPDX-License-Identifier: GPL-3.0-or-later
"""What the client's tests share: the real agentdeck-host, and a viewer to see what it got.

The host binary comes from the environment variable AGENTDECK_HOST_BIN (ctest sets
it); without it the tests fail, they are never skipped. Every host listens on
127.0.0.1 with a token file and configuration and state folders of its own, so
that its log files (and so its numbering and identity) survive a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest
import websockets

CLIENT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CLIENT_DIR))

TOKEN = "client-tests-token-0123456789"
TIMEOUT = 20.0


def host_binary() -> str:
    path = os.environ.get("AGENTDECK_HOST_BIN", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("AGENTDECK_HOST_BIN must name the agentdeck-host executable "
                           f"(got {path!r}); ctest sets it")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """One agentdeck-host process; stop and start it again on the same port and state."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.token_file = root / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)
        self.port = 0
        self.process: Optional[subprocess.Popen] = None
        self.output: List[str] = []
        self.starts = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self, port: Optional[int] = None) -> "Host":
        if port is not None:
            self.port = port
        env = dict(os.environ)
        env.pop("AGENTDECK_TOKEN", None)
        env["XDG_CONFIG_HOME"] = str(self.root / "config")
        env["XDG_STATE_HOME"] = str(self.root / "state")
        self.starts += 1
        stderr = open(self.root / f"host-{self.starts}.stderr", "wb")
        self.process = subprocess.Popen(
            [host_binary(), "--port", str(self.port), "--token-file", str(self.token_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env)
        stderr.close()
        assert self.process.stdout is not None
        first = self.process.stdout.readline().decode("utf-8", "replace")
        match = re.search(r"listening on ws://127\.0\.0\.1:(\d+)/", first)
        if not match:
            self.process.kill()
            raise RuntimeError(f"the host did not start: {first!r} {self.stderr()}")
        self.port = int(match.group(1))
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()
        return self

    def _drain(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line.decode("utf-8", "replace"))

    def stderr(self) -> str:
        path = self.root / f"host-{self.starts}.stderr"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the host gets no chance to write anything more."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(TIMEOUT)


class Proxy:
    """A TCP relay on 127.0.0.1 in front of a host, to hold back what a client sends
    (as a host that stopped reading would) and to cut every connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._reading = threading.Event()
        self._reading.set()
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def freeze(self) -> None:
        """Stops reading from clients: what they send waits in the kernel's buffers
        and never reaches the host."""
        self._reading.clear()

    def cut(self, target_port: Optional[int] = None) -> None:
        """Closes every connection (dropping what was held back); new ones go to
        ``target_port`` when given."""
        if target_port is not None:
            self.target_port = target_port
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._reading.set()

    def close(self) -> None:
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), TIMEOUT)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                if from_client:
                    self._reading.wait()
                data = source.recv(65536)
                if not data:
                    break
                if from_client and not self._reading.is_set():
                    return  # held back: dropped with the connection
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def proxy_factory():
    proxies: List[Proxy] = []

    def make(target_port: int) -> Proxy:
        proxies.append(Proxy(target_port))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def host_factory(tmp_path: Path):
    """Hosts that are not started yet (``factory().start()``), all stopped at the end."""
    hosts: List[Host] = []

    def make() -> Host:
        root = tmp_path / f"host{len(hosts)}"
        root.mkdir()
        hosts.append(Host(root))
        return hosts[-1]

    yield make
    for host in hosts:
        host.stop()


@pytest.fixture
def host(host_factory) -> Host:
    return host_factory().start()


def run(coroutine: Any, timeout: float = 45.0) -> Any:
    """Runs a test's asyncio part with an upper bound on its time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


class Viewer:
    """A console as the protocol describes one: hello as a viewer, subscribe, command."""

    def __init__(self, ws: Any, welcome: Dict[str, Any], snapshot: Dict[str, Any]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.snapshot = snapshot
        self._ids = 0

    @classmethod
    async def open(cls, url: str, token: str = TOKEN) -> "Viewer":
        ws = await websockets.connect(url, ping_interval=None, max_size=None, open_timeout=TIMEOUT,
                                      close_timeout=2)
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "role": "viewer", "token": token,
                                  "client": "agentdeck-client-tests"}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert welcome["type"] == "welcome", welcome
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert snapshot["type"] == "snapshot", snapshot
        return cls(ws, welcome, snapshot)

    async def close(self) -> None:
        await self.ws.close()

    async def send(self, message: Dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = TIMEOUT) -> Dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_until(self, predicate: Callable[[Dict[str, Any]], bool], what: str,
                         timeout: float = TIMEOUT) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            message = await self.recv(remaining)
            if predicate(message):
                return message

    async def subscribe(self, agents: List[str], **options: Any) -> List[Dict[str, Any]]:
        """Subscribes; returns the messages replayed before ``subscribed``."""
        await self.send({"type": "subscribe", "agents": agents, **options})
        replayed = []
        while True:
            message = await self.recv()
            if message["type"] == "subscribed":
                return replayed
            assert message["type"] != "error", message
            replayed.append(message)

    async def command(self, agent: str, name: str, args: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self._ids += 1
        command_id = f"c{self._ids}"
        await self.send({"type": "command", "id": command_id, "agent": agent, "name": name, "args": args or {}})
        return await self.recv_until(lambda m: m["type"] == "result" and m.get("id") == command_id,
                                     f"the result of {name}")

    async def history(self, agent: str, kind: str = "log") -> Dict[str, Any]:
        """Every stored item of one kind, oldest first, and the gaps among them,
        read with the host's ``history`` request page by page."""
        items: List[Dict[str, Any]] = []
        gaps: List[Dict[str, Any]] = []
        before = 0
        key = "lines" if kind == "log" else "messages"
        while True:
            self._ids += 1
            request_id = f"h{self._ids}"
            await self.send({"type": "history", "id": request_id, "agent": agent, "kind": kind,
                             "before": before, "limit": 5000})
            reply = await self.recv_until(lambda m: m.get("id") == request_id and m["type"] in ("history", "error"),
                                          "a history reply")
            assert reply["type"] == "history", reply
            page = reply.get(key, [])
            items[:0] = page
            gaps[:0] = reply.get("gaps", [])
            if not reply.get("more") or not page:
                return {"items": items, "gaps": gaps}
            before = page[0]["seq"]


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def stored(url: str, agent_id: str, kind: str = "log") -> List[Dict[str, Any]]:
    """Everything the host stores of one agent's console (or forum), oldest first."""

    async def scenario() -> List[Dict[str, Any]]:
        viewer = await Viewer.open(url)
        items = (await viewer.history(agent_id, kind))["items"]
        await viewer.close()
        return items

    return run(scenario())
