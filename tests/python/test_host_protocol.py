#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An independent conformance client for the AgentDeck host.

Written only against the wire contract (protocol-v1.md), not against the
host's sources. For each check it starts the host given as argv[1] on a free
port with a temporary configuration directory and talks to it as agents and
viewers over real WebSockets on 127.0.0.1. It prints one line per check and then
"N passed, M failed", and exits 1 if any check failed.

Needs Debian bookworm's python3-websockets (10.4, asyncio API).
"""

import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
import traceback

import websockets
import websockets.exceptions

TOKEN = "T-conformance"
TIMEOUT = 20.0  # seconds for any single wait; generous for a busy machine or sanitizer builds
START_TIMEOUT = 60.0

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


class CheckFailed(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise CheckFailed(what)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: got {actual!r}, expected {expected!r}")


def short(obj, limit=300):
    text = json.dumps(obj) if not isinstance(obj, str) else obj
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------
# The host process


class Host:
    def __init__(self, executable):
        self.executable = executable
        self.proc = None
        self.url = None
        self.tmp = tempfile.TemporaryDirectory(prefix="agentdeck-conformance-")
        self.stderr_path = os.path.join(self.tmp.name, "host.stderr")
        self.drain_task = None
        self.stderr_file = None

    async def start(self):
        env = dict(os.environ)
        env["XDG_CONFIG_HOME"] = os.path.join(self.tmp.name, "xdg-config")
        env["XDG_STATE_HOME"] = os.path.join(self.tmp.name, "xdg-state")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = await asyncio.wait_for(
            asyncio.create_subprocess_exec(
                self.executable, "--port", "0", "--token", TOKEN,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=self.stderr_file, env=env),
            START_TIMEOUT)
        line = await asyncio.wait_for(self.proc.stdout.readline(), START_TIMEOUT)
        text = line.decode("utf-8", "replace").strip()
        match = re.search(r"listening on (ws://127\.0\.0\.1:(\d+)/)", text)
        if not match or int(match.group(2)) == 0:
            raise RuntimeError(f"unexpected first line from the host: {text!r}; stderr: {self.stderr()}")
        self.url = match.group(1)
        self.drain_task = asyncio.ensure_future(self._drain())

    async def _drain(self):
        # Keep reading stdout so that the host never blocks on a full pipe.
        while True:
            if not await self.proc.stdout.readline():
                return

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    async def stop(self):
        """Ends the host with SIGTERM; returns its exit code (None if it was never started)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), TIMEOUT)
            except asyncio.TimeoutError:
                self.proc.kill()
                await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        if self.drain_task is not None:
            self.drain_task.cancel()
        if self.stderr_file is not None:
            self.stderr_file.close()
        return None if self.proc is None else self.proc.returncode

    def cleanup(self):
        self.tmp.cleanup()


# ---------------------------------------------------------------------------
# Clients


OPEN_PEERS = []


class Peer:
    """One WebSocket connection; every wait is bounded."""

    def __init__(self, ws):
        self.ws = ws
        OPEN_PEERS.append(self)

    async def send(self, obj):
        await asyncio.wait_for(self.ws.send(json.dumps(obj)), TIMEOUT)

    async def recv(self, timeout=TIMEOUT):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(raw, bytes):
            raise CheckFailed("the host sent a binary frame")
        try:
            msg = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"the host sent a text frame that is not JSON: {short(raw)}")
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise CheckFailed(f"the host sent a message without a string type: {short(raw)}")
        return msg

    async def recv_until(self, pred, what, timeout=TIMEOUT):
        """The first message that satisfies pred; others (host_metrics...) are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped = []
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError()
                msg = await self.recv(remaining)
            except asyncio.TimeoutError:
                raise CheckFailed(f"timed out waiting for {what}; skipped: {short(skipped[-5:], 600)}")
            except websockets.exceptions.ConnectionClosed:
                raise CheckFailed(f"the connection closed ({self.ws.close_code} {self.ws.close_reason!r}) "
                                  f"while waiting for {what}; skipped: {short(skipped[-5:], 600)}")
            if pred(msg):
                return msg
            skipped.append(msg)

    async def expect_closed(self, timeout=TIMEOUT):
        """Reads until the host closes; returns (code, reason, messages received before)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        received = []
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError()
                received.append(await self.recv(remaining))
            except asyncio.TimeoutError:
                raise CheckFailed(f"the host did not close the connection; got {short(received, 600)}")
            except websockets.exceptions.ConnectionClosed:
                break
        await asyncio.wait_for(self.ws.wait_closed(), TIMEOUT)
        return self.ws.close_code, self.ws.close_reason, received

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), TIMEOUT)
        except Exception:
            pass


async def connect(host, url=None, **kwargs):
    ws = await asyncio.wait_for(
        websockets.connect(url or host.url, ping_interval=None, max_size=None, open_timeout=TIMEOUT,
                           close_timeout=5, **kwargs),
        TIMEOUT)
    return Peer(ws)


def agent_hello(agent_id, token=TOKEN, name=None, commands=None):
    agent = {"id": agent_id, "name": name or agent_id, "pid": 4242}
    if commands is not None:
        agent["commands"] = commands
    return {"type": "hello", "protocol": 1, "role": "agent", "token": token, "agent": agent}


def viewer_hello(token=TOKEN):
    return {"type": "hello", "protocol": 1, "role": "viewer", "token": token, "client": "conformance/1"}


async def open_agent(host, agent_id, **kwargs):
    peer = await connect(host)
    await peer.send(agent_hello(agent_id, **kwargs))
    welcome = await peer.recv()
    expect_eq(welcome.get("type"), "welcome", f"first reply to agent {agent_id}'s hello ({short(welcome)})")
    return peer, welcome


async def open_viewer(host):
    peer = await connect(host)
    await peer.send(viewer_hello())
    welcome = await peer.recv()
    expect_eq(welcome.get("type"), "welcome", f"first reply to a viewer hello ({short(welcome)})")
    snapshot = await peer.recv()
    expect_eq(snapshot.get("type"), "snapshot", f"message after a viewer's welcome ({short(snapshot)})")
    return peer, welcome, snapshot


async def subscribe(viewer, agents, **extra):
    msg = {"type": "subscribe", "agents": agents}
    msg.update(extra)
    await viewer.send(msg)
    subscribed = await viewer.recv_until(lambda m: m["type"] in ("subscribed", "error"), "subscribed")
    expect_eq(subscribed["type"], "subscribed", f"answer to subscribe ({short(subscribed)})")
    expect_eq(subscribed.get("agents"), agents, "subscribed.agents")
    return subscribed


async def collect(viewer, agent_id, until, what, timeout=TIMEOUT):
    """Items for one agent, in arrival order: ("log", line), ("forum", message) and ("gap", gap),
    until until(items) holds."""
    items = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until(items):
        remaining = max(0.001, deadline - loop.time())
        try:
            msg = await viewer.recv_until(
                lambda m: m.get("agent") == agent_id and m["type"] in ("log", "forum", "gap"),
                f"{what} (have {short(items, 800)})", remaining)
        except CheckFailed:
            if loop.time() >= deadline:
                raise CheckFailed(f"timed out collecting {what}; have {short(items, 800)}")
            raise
        if msg["type"] == "log":
            items.extend(("log", line) for line in msg.get("lines", []) if not line.get("partial"))
        elif msg["type"] == "forum":
            items.extend(("forum", m) for m in msg.get("messages", []))
        else:
            items.append(("gap", msg))
    return items


def has_text(items, text):
    return any(kind == "log" and item.get("text") == text for kind, item in items)


def log_lines(items):
    return [item for kind, item in items if kind == "log"]


async def watch(host, agent_id):
    """A viewer subscribed to one agent, without history."""
    viewer, _, _ = await open_viewer(host)
    await subscribe(viewer, [agent_id], history=0)
    return viewer


async def send_lines(agent, lines):
    await agent.send({"type": "log", "lines": lines})


# ---------------------------------------------------------------------------
# Checks


@check
async def agent_welcome_resume_from_zero(host):
    agent, welcome = await open_agent(host, "py-welcome")
    expect_eq(welcome.get("protocol"), 1, "welcome.protocol")
    expect_eq(welcome.get("role"), "agent", "welcome.role")
    expect(isinstance(welcome.get("host"), dict) and isinstance(welcome["host"].get("id"), str)
           and welcome["host"]["id"], f"welcome.host.id ({short(welcome)})")
    expect_eq(welcome.get("resume_from"), {"log": 0, "forum": 0}, "welcome.resume_from of a new agent")
    await agent.close()


@check
async def viewer_snapshot_lists_agent(host):
    agent, _ = await open_agent(host, "py-snapshot", name="Snapshot Bot",
                                commands=[{"name": "pause", "help": "stop taking new tasks"}])
    viewer, welcome, snapshot = await open_viewer(host)
    expect_eq(welcome.get("role"), "viewer", "welcome.role")
    expect("resume_from" not in welcome, f"a viewer's welcome has no resume_from ({short(welcome)})")
    expect_eq(snapshot.get("host", {}).get("id"), welcome.get("host", {}).get("id"), "snapshot.host.id")
    expect(isinstance(snapshot.get("asks"), list), f"snapshot.asks ({short(snapshot)})")
    listed = [a for a in snapshot.get("agents", []) if a.get("id") == "py-snapshot"]
    expect_eq(len(listed), 1, "entries for py-snapshot in the snapshot")
    entry = listed[0]
    expect_eq(entry.get("name"), "Snapshot Bot", "agent name")
    expect_eq(entry.get("origin"), "connected", "agent origin")
    expect_eq(entry.get("state"), "running", "state of a connected agent before its first status")
    expect_eq(entry.get("pid"), 4242, "agent pid")
    expect_eq(entry.get("last_seq"), {"log": 0, "forum": 0}, "agent last_seq")
    expect_eq([c.get("name") for c in entry.get("commands", [])], ["pause"], "agent commands")
    await viewer.close()
    await agent.close()


@check
async def subscribe_star(host):
    viewer, _, _ = await open_viewer(host)
    await subscribe(viewer, ["*"], history=0)
    # An agent that appears later is covered by "*".
    agent, _ = await open_agent(host, "py-star-late")
    await send_lines(agent, [{"text": "hello from a late agent"}])
    items = await collect(viewer, "py-star-late", lambda i: has_text(i, "hello from a late agent"), "the late line")
    expect_eq(log_lines(items)[0].get("seq"), 1, "seq of the late agent's first line")
    await viewer.close()
    await agent.close()


@check
async def log_lines_in_order(host):
    viewer = await watch(host, "py-order")
    agent, _ = await open_agent(host, "py-order")
    await send_lines(agent, [{"text": f"line {i}", "stream": "stdout", "source": "order.test"} for i in range(1, 6)])
    for i in range(6, 11):
        await send_lines(agent, [{"text": f"line {i}"}])
    items = await collect(viewer, "py-order", lambda i: has_text(i, "line 10"), "ten lines")
    lines = log_lines(items)
    expect_eq([kind for kind, _ in items], ["log"] * 10, "kinds of the items")
    expect_eq([line.get("seq") for line in lines], list(range(1, 11)), "seqs")
    expect_eq([line.get("text") for line in lines], [f"line {i}" for i in range(1, 11)], "texts")
    expect_eq(lines[0].get("source"), "order.test", "source")
    expect(all(isinstance(line.get("ts"), int) for line in lines), "every line has an integer ts")
    expect(all(line.get("stream") == "stdout" for line in lines), "stream defaults to stdout")
    await viewer.close()
    await agent.close()


@check
async def multiline_text_is_split(host):
    viewer = await watch(host, "py-split")
    agent, _ = await open_agent(host, "py-split")
    ts = 1763773200123
    await send_lines(agent, [{"text": "first\r\nsecond\nthird\n", "ts": ts, "level": "DEBUG"}])
    await send_lines(agent, [{"text": "Traceback (most recent call last):\n  File \"x.py\", line 1", "level": "ERROR"}])
    await send_lines(agent, [{"seq": 6, "text": "numbered\nstays one"}])
    await send_lines(agent, [{"text": "marker"}])
    items = await collect(viewer, "py-split", lambda i: has_text(i, "marker"), "split lines")
    lines = log_lines(items)
    expect_eq([(line.get("seq"), line.get("text")) for line in lines],
              [(1, "first"), (2, "second"), (3, "third"),
               (4, "Traceback (most recent call last):"), (5, "  File \"x.py\", line 1"),
               (6, "numbered\nstays one"), (7, "marker")],
              "lines after splitting")
    expect_eq([line.get("ts") for line in lines[:3]], [ts] * 3, "pieces keep the item's ts")
    expect_eq([line.get("level") for line in lines[:5]], ["DEBUG"] * 3 + ["ERROR"] * 2,
              "pieces keep the item's level")
    await viewer.close()
    await agent.close()


@check
async def loguru_error_prefix(host):
    viewer = await watch(host, "py-loguru")
    agent, _ = await open_agent(host, "py-loguru")
    text = "2025-11-22 01:02:03.456 | ERROR    | app.main:run:42 - the database is gone"
    await send_lines(agent, [{"text": text, "stream": "stdout"}])
    items = await collect(viewer, "py-loguru", lambda i: has_text(i, text), "the loguru line")
    line = log_lines(items)[0]
    expect_eq(line.get("level"), "ERROR", "level inferred from a loguru ERROR line")
    expect_eq(line.get("text"), text, "text passed on unchanged")
    await viewer.close()
    await agent.close()


@check
async def level_rules(host):
    colored = ("\x1b[32m2025-11-22 01:02:03.456\x1b[0m | \x1b[31m\x1b[1mERROR   \x1b[0m | "
               "\x1b[36mapp\x1b[0m:\x1b[36mrun\x1b[0m:\x1b[36m42\x1b[0m - \x1b[31m\x1b[1mboom\x1b[0m")
    cases = [
        ({"text": "2025-11-22 01:02:03.456 | WARNING  | app:run:7 - careful"}, "WARNING"),
        ({"text": "ERROR:root:database unreachable"}, "ERROR"),
        ({"text": "[ERROR] disk full"}, "ERROR"),
        ({"text": colored}, "ERROR"),
        ({"text": "plain output"}, "INFO"),
        ({"text": "plain output on stderr", "stream": "stderr"}, "WARNING"),
        ({"text": "given warn", "level": "warn"}, "WARNING"),
        ({"text": "given fatal", "level": "FATAL"}, "CRITICAL"),
        ({"text": "given success", "level": "Success", "stream": "stderr"}, "INFO"),
        ({"text": "given error", "level": "error"}, "ERROR"),
        ({"text": "given trace", "level": "TRACE"}, "TRACE"),
        ({"text": "unknown level on stdout", "level": "loud"}, "INFO"),
        ({"text": "2025-11-22 01:02:03.456 | CRITICAL | app:run:7 - unknown given level", "level": "loud"},
         "CRITICAL"),
    ]
    viewer = await watch(host, "py-levels")
    agent, _ = await open_agent(host, "py-levels")
    await send_lines(agent, [line for line, _ in cases])
    last = cases[-1][0]["text"]
    items = await collect(viewer, "py-levels", lambda i: has_text(i, last), "the level lines")
    lines = log_lines(items)
    expect_eq([line.get("text") for line in lines], [c[0]["text"] for c in cases], "texts (ANSI kept)")
    problems = [f"{c[0]['text']!r}: {line.get('level')} instead of {c[1]}"
                for c, line in zip(cases, lines) if line.get("level") != c[1]]
    expect(not problems, "; ".join(problems))
    await viewer.close()
    await agent.close()


@check
async def redaction(host):
    key = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0"
    cases = [
        (f"calling the api with {key} now", key, "calling the api with ", " now"),
        ("db login password=hunter2secret ok", "hunter2secret", "db login ", " ok"),
        ("renewed token: abcdef123456xyz done", "abcdef123456xyz", "renewed ", " done"),
        ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl sent",
         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "header ", " sent"),
    ]
    viewer = await watch(host, "py-redact")
    agent, _ = await open_agent(host, "py-redact")
    await send_lines(agent, [{"text": text} for text, _, _, _ in cases] + [{"text": "redaction marker"}])
    await agent.send({"type": "forum", "messages": [{"text": f"my key is {key}", "sender": "Bot", "role": "agent"}]})
    items = await collect(viewer, "py-redact",
                          lambda i: has_text(i, "redaction marker") and any(k == "forum" for k, _ in i),
                          "redacted lines")
    lines = log_lines(items)
    problems = []
    for (text, secret, before, after), line in zip(cases, lines):
        got = line.get("text", "")
        if secret in got or "[REDACTED]" not in got or not got.startswith(before) or not got.endswith(after):
            problems.append(f"{text!r} became {got!r}")
    forum = [m for kind, m in items if kind == "forum"][0].get("text", "")
    if key in forum or "[REDACTED]" not in forum or not forum.startswith("my key is "):
        problems.append(f"forum text became {forum!r}")
    expect(not problems, "; ".join(problems))
    await viewer.close()
    await agent.close()


@check
async def numbered_resend_is_deduplicated(host):
    viewer = await watch(host, "py-resend")
    agent, welcome = await open_agent(host, "py-resend")
    expect_eq(welcome.get("resume_from"), {"log": 0, "forum": 0}, "resume_from at first")
    await send_lines(agent, [{"seq": i, "text": f"r{i}"} for i in range(1, 6)])
    await agent.send({"type": "forum", "messages": [{"seq": 1, "text": "f1"}, {"seq": 2, "text": "f2"}]})
    first = await collect(viewer, "py-resend", lambda i: has_text(i, "r5") and len(i) >= 7,
                          "the first five lines and two forum messages")
    await agent.close()

    agent, welcome = await open_agent(host, "py-resend")
    expect_eq(welcome.get("resume_from"), {"log": 5, "forum": 2}, "resume_from after reconnecting")
    # The agent resends what it still has, then goes on.
    await send_lines(agent, [{"seq": i, "text": f"r{i}"} for i in range(3, 8)])
    await agent.send({"type": "forum", "messages": [{"seq": 2, "text": "f2"}, {"seq": 3, "text": "f3"}]})
    await send_lines(agent, [{"seq": 8, "text": "r8"}])
    items = first + await collect(viewer, "py-resend", lambda i: has_text(i, "r8"), "lines up to r8")
    lines = log_lines(items)
    forum = [m for kind, m in items if kind == "forum"]
    expect_eq([(line.get("seq"), line.get("text")) for line in lines], [(i, f"r{i}") for i in range(1, 9)],
              "log lines seen by a viewer (each once)")
    expect_eq([(m.get("seq"), m.get("text")) for m in forum], [(1, "f1"), (2, "f2"), (3, "f3")],
              "forum messages seen by a viewer (each once)")
    await agent.close()

    agent, welcome = await open_agent(host, "py-resend")
    expect_eq(welcome.get("resume_from"), {"log": 8, "forum": 3}, "resume_from after the second reconnect")
    await viewer.close()
    await agent.close()


@check
async def agent_jump_is_agent_dropped_gap(host):
    viewer = await watch(host, "py-gap")
    agent, _ = await open_agent(host, "py-gap")
    await send_lines(agent, [{"seq": 1, "text": "g1"}, {"seq": 2, "text": "g2"}])
    await send_lines(agent, [{"seq": 6, "text": "g6"}, {"seq": 7, "text": "g7"}])
    items = await collect(viewer, "py-gap", lambda i: has_text(i, "g7"), "lines and the gap")
    simplified = [(k, v.get("seq")) if k == "log" else
                  (k, v.get("kind"), v.get("from"), v.get("to"), v.get("reason")) for k, v in items]
    expect_eq(simplified, [("log", 1), ("log", 2), ("gap", "log", 3, 5, "agent_dropped"), ("log", 6), ("log", 7)],
              "what a live viewer sees")
    await agent.close()

    agent, welcome = await open_agent(host, "py-gap")
    expect_eq(welcome.get("resume_from", {}).get("log"), 7, "resume_from.log after the jump")

    # A history replay carries the agent_dropped gap too, and no evicted gap.
    later, _, _ = await open_viewer(host)
    await later.send({"type": "subscribe", "agents": ["py-gap"]})
    replay = []
    while True:
        msg = await later.recv_until(lambda m: m["type"] == "subscribed" or m.get("agent") == "py-gap",
                                     "the history replay")
        if msg["type"] == "subscribed":
            break
        if msg["type"] == "log":
            replay.extend(("log", line.get("seq")) for line in msg.get("lines", []))
        elif msg["type"] == "gap":
            replay.append(("gap", msg.get("from"), msg.get("to"), msg.get("reason")))
    expect_eq(replay, [("log", 1), ("log", 2), ("gap", 3, 5, "agent_dropped"), ("log", 6), ("log", 7)],
              "history replay")
    await later.close()
    await viewer.close()
    await agent.close()


@check
async def resubscribe_since_replays_missing(host):
    agent, _ = await open_agent(host, "py-since")
    viewer = await watch(host, "py-since")
    await send_lines(agent, [{"seq": i, "text": f"s{i}"} for i in range(1, 5)])
    items = await collect(viewer, "py-since", lambda i: has_text(i, "s4"), "s1..s4")
    expect_eq([line.get("seq") for line in log_lines(items)], [1, 2, 3, 4], "first lines")
    await viewer.close()

    # Offline while the agent goes on.
    await send_lines(agent, [{"seq": i, "text": f"s{i}"} for i in range(5, 11)])
    probe = await watch(host, "py-since")  # only to know the host has taken s10 in
    await send_lines(agent, [{"seq": 11, "text": "s11"}])
    await collect(probe, "py-since", lambda i: has_text(i, "s11"), "s11")
    await probe.close()

    viewer, _, _ = await open_viewer(host)
    await viewer.send({"type": "subscribe", "agents": ["py-since"], "since": {"py-since": {"log": 4, "forum": 0}}})
    replay = []
    while True:
        msg = await viewer.recv_until(lambda m: m["type"] == "subscribed" or m.get("agent") == "py-since",
                                      "the since replay")
        if msg["type"] == "subscribed":
            break
        expect(msg["type"] == "log", f"unexpected message in the replay: {short(msg)}")
        replay.extend((line.get("seq"), line.get("text")) for line in msg.get("lines", []))
    expect_eq(replay, [(i, f"s{i}") for i in range(5, 12)], "lines replayed after since log 4")

    # A new subscribe on the same connection replaces the old one.
    await viewer.send({"type": "subscribe", "agents": ["py-since"], "since": {"py-since": {"log": 9}}})
    replay = []
    while True:
        msg = await viewer.recv_until(lambda m: m["type"] == "subscribed" or m.get("agent") == "py-since",
                                      "the second since replay")
        if msg["type"] == "subscribed":
            break
        replay.extend(line.get("seq") for line in msg.get("lines", []))
    expect_eq(replay, [10, 11], "lines replayed after since log 9")

    # Live lines follow.
    await send_lines(agent, [{"seq": 12, "text": "s12"}])
    items = await collect(viewer, "py-since", lambda i: has_text(i, "s12"), "s12 live")
    expect_eq([line.get("seq") for line in log_lines(items)], [12], "live lines after the replay")
    await viewer.close()
    await agent.close()


@check
async def command_round_trip(host):
    agent, _ = await open_agent(host, "py-cmd", commands=[{"name": "pause"}])
    viewer = await watch(host, "py-cmd")
    await viewer.send({"type": "command", "id": "v-1", "agent": "py-cmd", "name": "pause", "args": {"why": "test"}})
    command = await agent.recv_until(lambda m: m["type"] == "command", "the command at the agent")
    expect_eq(command.get("name"), "pause", "command name at the agent")
    expect_eq(command.get("args"), {"why": "test"}, "command args at the agent")
    expect(isinstance(command.get("id"), str) and command["id"], f"command id at the agent ({short(command)})")
    await agent.send({"type": "result", "id": command["id"], "ok": True, "text": "paused"})
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the result at the viewer")
    expect_eq(result.get("id"), "v-1", "result id")
    expect_eq(result.get("ok"), True, "result ok")
    expect_eq(result.get("text"), "paused", "result text")

    # Exactly one result: the next thing the viewer gets about commands is the next command's.
    await viewer.send({"type": "command", "id": "v-2", "agent": "py-cmd", "name": "resume"})
    command = await agent.recv_until(lambda m: m["type"] == "command", "the second command at the agent")
    expect_eq(command.get("name"), "resume", "second command name")
    await agent.send({"type": "result", "id": command["id"], "ok": False, "text": "not paused"})
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the second result")
    expect_eq((result.get("id"), result.get("ok")), ("v-2", False), "second result (no repeat of v-1)")
    await viewer.close()
    await agent.close()


@check
async def command_unknown_agent(host):
    viewer, _, _ = await open_viewer(host)
    await viewer.send({"type": "command", "id": "u-1", "agent": "py-nobody-has-this-id", "name": "pause"})
    result = await viewer.recv_until(lambda m: m["type"] in ("result", "error"), "the result")
    expect_eq(result.get("type"), "result", f"answer to a command for an unknown agent ({short(result)})")
    expect_eq(result.get("id"), "u-1", "result id")
    expect_eq(result.get("ok"), False, "result ok")
    expect_eq(result.get("error"), "unknown_agent", "result error")
    await viewer.close()


@check
async def command_offline_and_disconnected(host):
    agent, _ = await open_agent(host, "py-leaver")
    viewer, _, _ = await open_viewer(host)
    await viewer.send({"type": "command", "id": "d-1", "agent": "py-leaver", "name": "work"})
    await agent.recv_until(lambda m: m["type"] == "command", "the command")
    await agent.close()
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the result of an unanswered command")
    expect_eq((result.get("id"), result.get("ok"), result.get("error")), ("d-1", False, "disconnected"),
              "agent went away before answering")
    await viewer.send({"type": "command", "id": "d-2", "agent": "py-leaver", "name": "work"})
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the result for an offline agent")
    expect_eq((result.get("id"), result.get("ok"), result.get("error")), ("d-2", False, "not_connected"),
              "command to an offline agent")
    await viewer.close()


@check
async def forum_message(host):
    viewer = await watch(host, "py-forum")
    agent, _ = await open_agent(host, "py-forum", name="Query Engine")
    ts = 1763773200200
    await agent.send({"type": "forum", "messages": [
        {"seq": 1, "ts": ts, "sender": "Query Engine", "role": "agent", "source": "QUERY",
         "text": "Summary of the first round ..."},
        {"text": "the host numbers this one", "role": "user", "sender": "Alice"}]})
    items = await collect(viewer, "py-forum", lambda i: len(i) >= 2, "two forum messages")
    expect_eq([k for k, _ in items], ["forum", "forum"], "kinds")
    first, second = items[0][1], items[1][1]
    expect_eq({k: first.get(k) for k in ("seq", "ts", "sender", "role", "source", "text")},
              {"seq": 1, "ts": ts, "sender": "Query Engine", "role": "agent", "source": "QUERY",
               "text": "Summary of the first round ..."}, "first forum message")
    expect_eq((second.get("seq"), second.get("role"), second.get("sender"), second.get("text")),
              (2, "user", "Alice", "the host numbers this one"), "second forum message")
    await viewer.close()
    await agent.close()


@check
async def ask_answer_flow(host):
    agent, _ = await open_agent(host, "py-ask")
    viewer = await watch(host, "py-ask")
    await agent.send({"type": "ask", "id": "q7", "text": "Publish the report?", "choices": ["approve", "reject"]})
    ask = await viewer.recv_until(lambda m: m["type"] == "ask" and m.get("agent") == "py-ask", "the ask")
    expect_eq((ask.get("id"), ask.get("text"), ask.get("choices")),
              ("q7", "Publish the report?", ["approve", "reject"]), "ask at the viewer")

    other, _, snapshot = await open_viewer(host)
    open_asks = [a for a in snapshot.get("asks", []) if a.get("agent") == "py-ask"]
    expect_eq([(a.get("id"), a.get("text"), a.get("choices")) for a in open_asks],
              [("q7", "Publish the report?", ["approve", "reject"])], "open asks in a new viewer's snapshot")
    await other.close()

    await viewer.send({"type": "command", "id": "a-1", "agent": "py-ask", "name": "answer",
                       "args": {"ask": "q7", "choice": "approve"}})
    command = await agent.recv_until(lambda m: m["type"] == "command", "the answer at the agent")
    expect_eq((command.get("name"), command.get("args")), ("answer", {"ask": "q7", "choice": "approve"}),
              "answer forwarded to the agent")
    closed = await viewer.recv_until(lambda m: m["type"] == "ask_closed", "ask_closed")
    expect_eq((closed.get("agent"), closed.get("id"), closed.get("choice")), ("py-ask", "q7", "approve"),
              "ask_closed")
    await agent.send({"type": "result", "id": command["id"], "ok": True})
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the answer's result")
    expect_eq((result.get("id"), result.get("ok")), ("a-1", True), "result of the answer")

    other, _, snapshot = await open_viewer(host)
    expect_eq([a for a in snapshot.get("asks", []) if a.get("agent") == "py-ask"], [], "asks after the answer")
    await other.close()

    await viewer.send({"type": "command", "id": "a-2", "agent": "py-ask", "name": "answer",
                       "args": {"ask": "q7", "choice": "reject"}})
    result = await viewer.recv_until(lambda m: m["type"] == "result", "the result of a second answer")
    expect_eq((result.get("id"), result.get("ok")), ("a-2", False), "answering a closed ask")
    await viewer.close()
    await agent.close()


@check
async def wrong_token_unauthorized_1008(host):
    for role in ("viewer", "agent"):
        peer = await connect(host)
        hello = viewer_hello("wrong") if role == "viewer" else agent_hello("py-intruder", token="wrong")
        await peer.send(hello)
        code, _, received = await peer.expect_closed()
        expect_eq([(m.get("type"), m.get("code")) for m in received], [("error", "unauthorized")],
                  f"messages to a {role} with a wrong token")
        expect_eq(code, 1008, f"close code for a {role} with a wrong token")


@check
async def token_from_query_or_header(host):
    peer = await connect(host, url=host.url + "?token=" + TOKEN)
    hello = viewer_hello()
    del hello["token"]
    await peer.send(hello)
    welcome = await peer.recv()
    expect_eq(welcome.get("type"), "welcome", "answer to a hello with ?token=")
    await peer.close()
    peer = await connect(host, extra_headers={"Authorization": "Bearer " + TOKEN})
    await peer.send(hello)
    welcome = await peer.recv()
    expect_eq(welcome.get("type"), "welcome", "answer to a hello with an Authorization header")
    await peer.close()


@check
async def hello_checks(host):
    cases = [
        ({"type": "subscribe", "agents": ["*"]}, "bad_message", 1008, "a first message that is not hello"),
        (dict(viewer_hello(), protocol=2), "unsupported", 1002, "protocol 2"),
        ({k: v for k, v in viewer_hello().items() if k != "protocol"}, "unsupported", 1002, "no protocol"),
        (dict(viewer_hello(), role="admin"), "bad_message", 1008, "an unknown role"),
        (agent_hello("bad id!"), "bad_message", 1008, "a bad agent id"),
        (dict(viewer_hello("wrong"), protocol=2), "unauthorized", 1008, "the token is checked first"),
    ]
    for hello, error, close_code, what in cases:
        peer = await connect(host)
        await peer.send(hello)
        code, _, received = await peer.expect_closed()
        expect_eq([(m.get("type"), m.get("code")) for m in received], [("error", error)], f"messages for {what}")
        expect_eq(code, close_code, f"close code for {what}")
    viewer, _, _ = await open_viewer(host)
    await viewer.send(viewer_hello())
    error = await viewer.recv_until(lambda m: m["type"] == "error", "the error for a second hello")
    expect_eq(error.get("code"), "bad_message", "a second hello")
    await subscribe(viewer, ["py-nobody"], history=0)
    await viewer.close()


@check
async def replaced_connection_4000(host):
    first, _ = await open_agent(host, "py-twice")
    second, _ = await open_agent(host, "py-twice")
    code, reason, _ = await first.expect_closed()
    expect_eq((code, reason), (4000, "replaced"), "close of the replaced connection")
    await send_lines(second, [{"text": "still here"}])
    viewer, _, _ = await open_viewer(host)
    await viewer.send({"type": "subscribe", "agents": ["py-twice"]})
    items = await collect(viewer, "py-twice", lambda i: has_text(i, "still here"), "the second connection's line")
    expect(has_text(items, "still here"), "the second connection works")
    await viewer.close()
    await second.close()


@check
async def binary_frame_closes_1003(host):
    viewer, _, _ = await open_viewer(host)
    await asyncio.wait_for(viewer.ws.send(b"\x00\x01binary"), TIMEOUT)
    code, _, _ = await viewer.expect_closed()
    expect_eq(code, 1003, "close code after a binary frame")


@check
async def invalid_utf8_closes_1007(host):
    agent, _ = await open_agent(host, "py-utf8")
    # A text frame whose payload is not UTF-8, written below the library's checks.
    await asyncio.wait_for(agent.ws.write_frame(True, 0x1, b'{"type":"log","lines":[{"text":"\xff\xfe"}]}'),
                           TIMEOUT)
    code, _, _ = await agent.expect_closed()
    expect_eq(code, 1007, "close code after invalid UTF-8")


@check
async def oversized_message_closes_1009(host):
    agent, _ = await open_agent(host, "py-big")
    big = json.dumps({"type": "log", "lines": [{"text": "x" * (1024 * 1024 + 100)}]})
    try:
        await asyncio.wait_for(agent.ws.send(big), TIMEOUT)
    except websockets.exceptions.ConnectionClosed:
        pass
    code, _, _ = await agent.expect_closed()
    expect_eq(code, 1009, "close code after a message over 1 MiB")


@check
async def origin_refused_403(host):
    try:
        peer = await connect(host, origin="https://evil.example")
    except websockets.exceptions.InvalidStatusCode as e:
        expect_eq(e.status_code, 403, "HTTP status for a foreign Origin")
        return
    await peer.close()
    raise CheckFailed("a handshake with an Origin header was accepted")


@check
async def unknown_type_bad_message_stays_open(host):
    for role in ("viewer", "agent"):
        if role == "viewer":
            peer, _, _ = await open_viewer(host)
        else:
            peer, _ = await open_agent(host, "py-unknown-type")
        await peer.send({"type": "frobnicate", "id": "u-7"})
        error = await peer.recv_until(lambda m: m["type"] == "error", f"the error ({role})")
        expect_eq((error.get("code"), error.get("ref")), ("bad_message", "u-7"), f"error for an unknown type ({role})")
        if role == "viewer":
            await subscribe(peer, ["py-nobody"], history=0)
        else:
            await peer.send({"type": "ask", "id": "q-open", "text": "still open?"})
            viewer, _, snapshot = await open_viewer(host)
            expect([a for a in snapshot.get("asks", []) if a.get("agent") == "py-unknown-type"],
                   "the agent's connection still works after bad_message")
            await viewer.close()
        expect(peer.ws.open, f"the {role} connection stays open")
        await peer.close()


@check
async def viewer_may_not_publish(host):
    viewer, _, _ = await open_viewer(host)
    await viewer.send({"type": "log", "id": "l-1", "lines": [{"text": "a viewer pretending"}]})
    error = await viewer.recv_until(lambda m: m["type"] == "error", "the error")
    expect_eq((error.get("code"), error.get("ref")), ("forbidden", "l-1"), "error for a viewer's log")
    await subscribe(viewer, ["py-nobody"], history=0)
    expect(viewer.ws.open, "the viewer stays open after forbidden")
    await viewer.close()

    agent, _ = await open_agent(host, "py-no-viewer-msgs")
    await agent.send({"type": "subscribe", "agents": ["*"]})
    error = await agent.recv_until(lambda m: m["type"] == "error", "the error")
    expect_eq(error.get("code"), "forbidden", "error for an agent's subscribe")
    await agent.close()


async def welcomed_viewer_or_code(host):
    """Connects a viewer; returns "welcome", or the close code if the host closed instead."""
    peer = await connect(host)
    try:
        await peer.send(viewer_hello())
        msg = await peer.recv()
        return msg.get("type")
    except websockets.exceptions.ConnectionClosed:
        await asyncio.wait_for(peer.ws.wait_closed(), TIMEOUT)
        return peer.ws.close_code
    finally:
        await peer.close()
        OPEN_PEERS.remove(peer)


@check
async def connection_limit_counts_open_connections(host):
    # 32 open connections from one address are allowed; the 33rd is refused with 1013.
    peers = []
    for i in range(32):
        peer = await connect(host)
        await peer.send(viewer_hello())
        welcome = await peer.recv()
        expect_eq(welcome.get("type"), "welcome", f"answer to open connection {i + 1}")
        peers.append(peer)
    extra = await connect(host)
    code, reason, _ = await extra.expect_closed()
    expect_eq((code, reason), (1013, "too many connections"), "close of connection 33")
    # Once some are closed, there is room again.
    for peer in peers[:4]:
        await peer.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    answer = None
    while loop.time() < deadline:
        answer = await welcomed_viewer_or_code(host)
        if answer == "welcome":
            break
        await asyncio.sleep(0.2)
    expect_eq(answer, "welcome", "a new connection after four of 32 were closed")


@check
async def closed_connections_are_not_counted(host):
    # One connection at a time, many times over: never more than one is open.
    for i in range(40):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        answer = None
        while loop.time() < deadline:
            answer = await welcomed_viewer_or_code(host)
            if answer == "welcome":
                break
            await asyncio.sleep(0.2)
        expect_eq(answer, "welcome", f"answer to sequential connection {i + 1} (all earlier ones closed)")


# ---------------------------------------------------------------------------


async def run_check(executable, fn):
    """Runs one check against a host of its own; returns None or why it failed."""
    host = Host(executable)
    started = time.monotonic()
    problem = None
    try:
        await host.start()
        await asyncio.wait_for(fn(host), 4 * TIMEOUT)
    except CheckFailed as e:
        problem = str(e)
    except asyncio.TimeoutError:
        problem = f"timed out after {time.monotonic() - started:.0f} s"
    except Exception as e:
        problem = traceback.format_exception_only(type(e), e)[-1].strip()
    try:
        while OPEN_PEERS:
            await OPEN_PEERS.pop().close()
        was_running = host.proc is not None and host.proc.returncode is None
        code = await host.stop()
        # A host that crashed, or that a sanitizer stopped, fails the check that ran it.
        if problem is None and code != 0:
            state = "on SIGTERM" if was_running else "during the check"
            problem = f"the host exited with {code} {state}; stderr: {host.stderr()}"
    finally:
        host.cleanup()
    return problem


async def main(executable):
    passed = failed = 0
    for fn in CHECKS:
        problem = await run_check(executable, fn)
        if problem is None:
            print(f"PASS {fn.__name__}", flush=True)
            passed += 1
        else:
            print(f"FAIL {fn.__name__}: {problem}", flush=True)
            failed += 1
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} PATH-TO-agentdeck-host", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
