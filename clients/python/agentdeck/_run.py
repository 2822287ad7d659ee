# SPDX-License-Identifier: GPL-3.0-or-later
"""``python3 -m agentdeck run``: runs a program and forwards its output as an agent's console."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import signal
import sys
import time
from typing import BinaryIO, List, Optional, Sequence

from ._core import AsyncAgent
from ._errors import AgentDeckError

__all__ = ["main", "LineSplitter"]

#: Longer lines are cut at a character boundary with a note, as the host's own
#: launcher does with its default ``logs.max_line_bytes``.
MAX_LINE_BYTES = 64 * 1024
_PARTIAL_INTERVAL = 0.1  # at most 10 partial lines a second per stream, as the protocol says
_FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` are an unfinished UTF-8 sequence."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:
            continue
        needed = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
        return back if back < needed else 0
    return 0


def _as_terminal_shows(text: str) -> str:
    """A line with carriage returns as a terminal ends up showing it: its last
    non-empty part (a progress bar redrawn in place)."""
    if "\r" not in text:
        return text
    parts = [part for part in text.split("\r") if part]
    return parts[-1] if parts else ""


class LineSplitter:
    """Splits a byte stream into lines: at ``\\n`` (a ``\\r`` before it removed),
    invalid UTF-8 replaced by U+FFFD, lines longer than ``max_bytes`` cut at a
    character boundary with a note of how much was cut. The bytes after the last
    newline are the stream's partial line."""

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._cut = 0

    def feed(self, data: bytes) -> List[str]:
        """The lines that ``data`` completes."""
        lines = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            self._append(data[start:] if newline < 0 else data[start:newline])
            if newline < 0:
                return lines
            lines.append(self._take())
            start = newline + 1

    def partial(self) -> Optional[str]:
        """The unfinished last line, or None when there is none."""
        if not self._buffer:
            return None
        data = bytes(self._buffer)
        data = data[:len(data) - _incomplete_tail(data)]
        return _as_terminal_shows(data.decode("utf-8", "replace"))

    def finish(self) -> Optional[str]:
        """The unfinished last line as a complete one (the stream ended), or None."""
        if not self._buffer and not self._cut:
            return None
        return self._take()

    def _append(self, piece: bytes) -> None:
        room = self.max_bytes - len(self._buffer)
        if self._cut or len(piece) > room:
            keep = max(0, room)
            self._buffer += piece[:keep]
            self._cut += len(piece) - keep
        else:
            self._buffer += piece

    def _take(self) -> str:
        data, cut = bytes(self._buffer), self._cut
        self._buffer.clear()
        self._cut = 0
        if cut:
            tail = _incomplete_tail(data)
            data, cut = data[:len(data) - tail], cut + tail
        elif data.endswith(b"\r"):
            data = data[:-1]
        text = _as_terminal_shows(data.decode("utf-8", "replace"))
        if cut:
            text += f" … [line cut: {cut:,} more bytes]"
        return text


class _StreamForwarder:
    """Reads one of the child's pipes and forwards it as console lines, throttling
    partial lines and copying the bytes to our own stream when ``echo`` is set."""

    def __init__(self, agent: AsyncAgent, reader: asyncio.StreamReader, stream: str,
                 echo: Optional[BinaryIO]) -> None:
        self.agent = agent
        self.reader = reader
        self.stream = stream
        self.echo = echo
        self.splitter = LineSplitter()
        self._last_partial = 0.0
        self._partial_timer: Optional[asyncio.TimerHandle] = None

    async def run(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self._echo(data)
                for line in self.splitter.feed(data):
                    self.agent.log(line, stream=self.stream)
                self._show_partial()
        finally:
            self._cancel_partial()
            last = self.splitter.finish()
            if last is not None:
                self.agent.log(last, stream=self.stream)

    def _echo(self, data: bytes) -> None:
        if self.echo is None:
            return
        try:
            self.echo.write(data)
            self.echo.flush()
        except (OSError, ValueError):
            self.echo = None

    def _show_partial(self) -> None:
        if self.splitter.partial() is None:
            self._cancel_partial()
            return
        wait = self._last_partial + _PARTIAL_INTERVAL - time.monotonic()
        if wait <= 0:
            self._send_partial()
        elif self._partial_timer is None:
            self._partial_timer = asyncio.get_running_loop().call_later(wait, self._send_partial)

    def _send_partial(self) -> None:
        self._partial_timer = None
        text = self.splitter.partial()
        if text is not None:
            self._last_partial = time.monotonic()
            self.agent.partial(text, stream=self.stream)

    def _cancel_partial(self) -> None:
        if self._partial_timer is not None:
            self._partial_timer.cancel()
            self._partial_timer = None


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


async def run_program(agent: AsyncAgent, command: Sequence[str], *, echo: bool = True,
                      flush_timeout: float = 10.0) -> int:
    """Runs ``command`` as the agent's program: its stdout and stderr become the
    agent's console (and are copied to ours when ``echo``), SIGINT, SIGTERM, SIGHUP
    and SIGQUIT are passed on to it, and its status is reported. Returns its exit
    code, 128 + the signal's number when a signal ended it, 127 when it could not
    be found and 126 when it could not be started."""
    loop = asyncio.get_running_loop()
    own_group = not sys.stdin.isatty()
    spawn_options: dict = {}
    if own_group:
        # In a group of its own, the program gets a signal once (from us), also when
        # it was sent to our whole group. At a terminal it stays in ours, so that it
        # can read the terminal and gets Ctrl-C from it directly.
        if sys.version_info >= (3, 11):
            spawn_options["process_group"] = 0
        else:
            spawn_options["preexec_fn"] = os.setpgrp
    command_line = shlex.join(command)
    try:
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE, **spawn_options)
    except OSError as error:
        text = f"cannot start `{command_line}`: {error.strerror or error}"
        print(f"agentdeck run: {text}", file=sys.stderr)
        agent.log(text, level="CRITICAL", source="agentdeck")
        agent.status("error", text)
        await agent.close(flush_timeout)
        return 127 if isinstance(error, FileNotFoundError) else 126

    def forward(signum: int) -> None:
        if process.returncode is not None:
            return
        if not own_group and signum == signal.SIGINT:
            return  # the terminal sent it to the program too
        try:
            if own_group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED_SIGNALS:
        loop.add_signal_handler(signum, forward, signum)
    try:
        agent.log(f"started `{command_line}` (pid {process.pid})", level="INFO", source="agentdeck")
        agent.status("running", f"pid {process.pid}: {command_line}"[:1024])
        assert process.stdout is not None and process.stderr is not None
        forwarders = [
            loop.create_task(_StreamForwarder(agent, process.stdout, "stdout",
                                              sys.stdout.buffer if echo else None).run()),
            loop.create_task(_StreamForwarder(agent, process.stderr, "stderr",
                                              sys.stderr.buffer if echo else None).run()),
        ]
        returncode = await process.wait()
        # Output still in the pipes is read; a leftover grandchild holding them open is not waited for.
        _, still_reading = await asyncio.wait(forwarders, timeout=2.0)
        for task in still_reading:
            task.cancel()
        await asyncio.gather(*forwarders, return_exceptions=True)
    finally:
        for signum in _FORWARDED_SIGNALS:
            loop.remove_signal_handler(signum)
    ending = _describe_exit(returncode)
    agent.log(ending, level="INFO" if returncode == 0 else "ERROR", source="agentdeck")
    agent.status("stopped" if returncode == 0 else "crashed", ending)
    if not await agent.close(flush_timeout):
        print(f"agentdeck run: the host did not confirm every line within {flush_timeout:g} s", file=sys.stderr)
    return returncode if returncode >= 0 else 128 - returncode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m agentdeck",
                                     description="Tools of the AgentDeck Python client.")
    commands = parser.add_subparsers(dest="tool", metavar="TOOL")
    commands.required = True
    run = commands.add_parser(
        "run", help="run a program and forward its output to an AgentDeck host",
        description="Runs a program as an AgentDeck agent: its stdout and stderr become the agent's console, "
                    "its start and exit its status. Exits with the program's exit code (128 + N when "
                    "signal N ended it). The host's address and token come from the options, else from "
                    "AGENTDECK_URL and AGENTDECK_TOKEN (or AGENTDECK_TOKEN_FILE), else the desktop app's "
                    "host on this machine.",
        usage="python3 -m agentdeck run --id ID [options] -- COMMAND [ARGS...]")
    run.add_argument("--id", dest="agent_id", help="the agent id (default: AGENTDECK_AGENT_ID)")
    run.add_argument("--name", help="the agent's display name (default: the id)")
    run.add_argument("--url", help="the host's address, e.g. ws://127.0.0.1:7700/")
    run.add_argument("--token-file", help="a file holding the token")
    run.add_argument("--quiet", action="store_true", help="do not copy the program's output to ours")
    run.add_argument("--flush-timeout", type=float, default=10.0, metavar="SECONDS",
                     help="how long to wait at the end for the host to take every line (default 10)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments, after --")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; returns the exit status."""
    parser = _parser()
    options = parser.parse_args(argv)
    messages = logging.StreamHandler(sys.stderr)
    messages.setFormatter(logging.Formatter("agentdeck run: %(message)s"))
    library_log = logging.getLogger("agentdeck")
    library_log.addHandler(messages)
    library_log.setLevel(logging.WARNING)
    library_log.propagate = False
    command = list(options.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        parser.error("no program to run: give it after --")
    try:
        agent = AsyncAgent(options.agent_id, name=options.name, url=options.url, token_file=options.token_file)
    except ValueError as error:
        parser.error(str(error))

    async def run() -> int:
        try:
            await agent.start()
        except AgentDeckError:
            return 2  # the library's log has said why
        return await run_program(agent, command, echo=not options.quiet, flush_timeout=options.flush_timeout)

    return asyncio.run(run())
