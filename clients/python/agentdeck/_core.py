# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent's connection: hello, resume, reconnect with backoff, commands and asks."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import random
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple, TypeVar, Union

import websockets
import websockets.exceptions

from . import _items
from ._errors import AgentDeckError, AuthenticationError, CommandError, RefusedError, ReplacedError
from ._items import Level, Task, When
from ._outbox import Outbox, dumps
from ._settings import Settings, resolve

__all__ = ["AsyncAgent", "CommandHandler"]

_log = logging.getLogger("agentdeck")

#: What a command handler may be: a function or coroutine function taking the
#: command's ``args`` (a dict), or taking nothing.
CommandHandler = Callable[..., Any]
_Handler = TypeVar("_Handler", bound=CommandHandler)

_CLIENT = "agentdeck-python/0.1"
_MAX_ASK_TEXT = 8 * 1024
_ACK_INTERVAL = 1.0
# The host's default limit on a status, metrics or ask message (limits.max_status_bytes).
_MAX_CONTROL_BYTES = 16 * 1024
_MAX_RESULT_TEXT = 8 * 1024
# Hello refusals that a retry does not cure; rate_limited (too many agents) is retried.
_FATAL_CODES = ("unauthorized", "unsupported", "bad_message", "forbidden")


@dataclass
class _Command:
    name: str
    handler: CommandHandler
    help: Optional[str]
    takes_args: bool
    is_async: bool


def _takes_args(handler: CommandHandler) -> bool:
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)


def _is_async(handler: CommandHandler) -> bool:
    target = getattr(handler, "__call__", None) if not inspect.isroutine(handler) else handler
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(target)


def _refusal(message: Mapping[str, Any], close_code: Optional[int] = None) -> RefusedError:
    code = str(message.get("code") or "bad_message")
    text = str(message.get("text") or "")
    if code == "unauthorized":
        return AuthenticationError(code, text, close_code)
    return RefusedError(code, text, close_code)


class AsyncAgent:
    """An agent that runs in the caller's asyncio event loop.

    ::

        async with AsyncAgent("my-bot", name="My Bot") as agent:
            agent.log("starting")
            choice = await agent.ask("Publish the report?", ["approve", "reject"])

    ``agent_id``, ``name``, ``url``, ``token`` and ``token_file`` default to the
    environment a host gives the programs it launches (``AGENTDECK_AGENT_ID``,
    ``AGENTDECK_AGENT_NAME``, ``AGENTDECK_URL``, ``AGENTDECK_TOKEN``,
    ``AGENTDECK_TOKEN_FILE``), then to the desktop app's own host on this machine.

    The agent connects, says ``hello``, and keeps reconnecting with exponential
    backoff and jitter (``backoff_initial`` doubling up to ``backoff_max``
    seconds) for as long as it is open. Console lines and forum messages are
    numbered and kept in a bounded buffer (``buffer_items``, ``buffer_bytes``)
    until the host has them, so a reconnect resends exactly what the host is
    missing: nothing is lost or shown twice. When the buffer overflows while the
    host is away, the oldest items go, and the host reports the hole to viewers
    as a ``gap`` (reason ``agent_dropped``).

    :meth:`log`, :meth:`partial`, :meth:`forum`, :meth:`metrics` and :meth:`status`
    never block and never fail because the host is away; they may be called from
    any thread. Coroutines (:meth:`ask`, :meth:`flush`, :meth:`close`...) must be
    awaited in the agent's loop. A refusal by the host (a wrong token, an id held
    by someone else) is not retried: it is raised by :meth:`start` when it comes
    at the first attempt, and later by :meth:`flush`, :meth:`ask`,
    :meth:`run_forever` and :meth:`wait_connected`.
    """

    def __init__(self, agent_id: Optional[str] = None, *, name: Optional[str] = None, url: Optional[str] = None,
                 token: Optional[str] = None, token_file: Union[str, "os.PathLike[str]", None] = None,
                 buffer_items: int = 10000, buffer_bytes: int = 8 * 1024 * 1024,
                 backoff_initial: float = 0.5, backoff_max: float = 30.0, connect_timeout: float = 10.0,
                 pid: Optional[int] = None, environ: Optional[Mapping[str, str]] = None) -> None:
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ValueError("backoff needs 0 < backoff_initial <= backoff_max")
        self._settings: Settings = resolve(agent_id, name=name, url=url, token=token, token_file=token_file,
                                           environ=environ)
        self._outbox = Outbox(buffer_items, buffer_bytes)
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self._pid = os.getpid() if pid is None else pid
        self._commands: Dict[str, _Command] = {}
        self._asks: Dict[str, "asyncio.Future[Any]"] = {}
        self._command_tasks: Set["asyncio.Task[None]"] = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None
        self._runner: Optional["asyncio.Task[None]"] = None
        self._first_attempt: Optional["asyncio.Future[bool]"] = None
        self._wake_event: Optional[asyncio.Event] = None
        self._wake_scheduled = False
        self._changed: Optional[asyncio.Event] = None
        self._finished: Optional[asyncio.Event] = None
        self._ws: Any = None
        self._generation = 0
        self._writing = False
        self._host: Optional[Dict[str, Any]] = None
        self._fatal: Optional[AgentDeckError] = None
        self._closing = False
        self._close_task: Optional["asyncio.Task[bool]"] = None

    # -- description -------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The agent's id on the host."""
        return self._settings.agent_id

    @property
    def name(self) -> str:
        """The agent's display name."""
        return self._settings.name

    @property
    def url(self) -> str:
        """The host's address."""
        return self._settings.url

    @property
    def connected(self) -> bool:
        """Whether the agent is connected and welcomed right now."""
        return self._ws is not None

    @property
    def host(self) -> Optional[Dict[str, Any]]:
        """The host's ``id``, ``name`` and ``version`` from its last ``welcome``."""
        return self._host

    @property
    def error(self) -> Optional[AgentDeckError]:
        """The refusal that stopped the agent, if one did."""
        return self._fatal

    def dropped(self) -> Dict[str, int]:
        """Console lines and forum messages dropped from the full buffer before the
        host had them, per kind (``log``, ``forum``)."""
        return self._outbox.dropped()

    def pending(self) -> int:
        """How many items and messages wait to be written."""
        return self._outbox.pending()

    # -- commands ----------------------------------------------------------------

    def command(self, name: str, *, help: Optional[str] = None) -> Callable[[_Handler], _Handler]:
        """A decorator that makes a function the handler of the command ``name``::

            @agent.command("pause", help="stop taking new tasks")
            def pause(args):
                ...
                return "paused"

        The handler takes the command's ``args`` (a dict) or nothing, and may be a
        plain function (run in a worker thread) or a coroutine function (run in the
        agent's loop). Its return value is the ``result``: ``None``, ``True`` or a
        string mean success (the string is the result's text), ``False`` failure;
        any other JSON value is passed on as the result's ``data``. An exception
        makes the result ``ok: false`` with the exception as its text; raise
        :class:`agentdeck.CommandError` for a plain message.

        Commands are announced in the ``hello``: register them before the agent
        starts (a later one works, and is announced at the next connection).
        """

        def register(handler: _Handler) -> _Handler:
            self.add_command(name, handler, help=help)
            return handler

        return register

    def add_command(self, name: str, handler: CommandHandler, *, help: Optional[str] = None) -> None:
        """Registers ``handler`` for the command ``name`` (see :meth:`command`)."""
        if not isinstance(name, str) or not name:
            raise ValueError("a command needs a name")
        if name == "answer":
            raise ValueError("'answer' is the protocol's reply to an ask; it cannot be a command")
        if not callable(handler):
            raise TypeError("a command handler must be callable")
        self._commands[name] = _Command(name, handler, help, _takes_args(handler), _is_async(handler))

    # -- publishing (any thread, never blocks) ------------------------------------

    def log(self, text: object, *, level: Level = None, source: Optional[str] = None, stream: str = "stdout",
            ts: When = None) -> None:
        """Adds one console line. ``level`` is a name (``INFO``, ``warn``...) or a
        :mod:`logging` number; without one the host infers it from the text.
        ``source`` is free text such as a logger name. A text with newlines stays one
        line of the console (a traceback stays together); a text above 128 KiB is cut."""
        fields = _items.log_fields(_items.clean(text), _items.level_name(level), source,
                                   _items.check_stream(stream), _items.millis(ts))
        self._outbox.add("log", fields)
        self._wake()

    def partial(self, text: object, *, stream: str = "stdout", level: Level = None) -> None:
        """Shows ``text`` as the unfinished last line of ``stream`` (a progress bar,
        an answer still streaming). It is not stored, replaces the previous partial
        line, and is replaced by the next complete line of that stream. It is sent
        only while connected."""
        line: Dict[str, Any] = {"text": _items.clean(text, 16 * 1024), "stream": _items.check_stream(stream),
                                "partial": True}
        level_text = _items.level_name(level)
        if level_text is not None:
            line["level"] = level_text
        if self._outbox.add_control({"type": "log", "lines": [line]}, partial_stream=stream):
            self._wake()

    def forum(self, text: object, *, sender: Optional[str] = None, role: str = "agent",
              source: Optional[str] = None, ts: When = None) -> None:
        """Posts a message to the forum, the agents' shared conversation. ``sender``
        defaults to the agent's name; ``role`` is ``agent``, ``host``, ``system`` or
        ``user``."""
        self._outbox.add("forum", _items.forum_fields(text, sender, role, source, _items.millis(ts)))
        self._wake()

    def metrics(self, values: Optional[Mapping[str, Any]] = None, *, ts: When = None, **more: Any) -> None:
        """Sends numeric measurements, e.g. ``agent.metrics(cpu=12.5, tokens_per_s=80)``.
        Values that are not finite numbers are left out. Metrics made while the host
        is away are dropped (the next ones are newer)."""
        merged: Dict[str, Any] = dict(values or {})
        merged.update(more)
        message = {"type": "metrics", "ts": _items.millis(ts), "values": _items.metric_values(merged)}
        _check_size(message, "metrics")
        if self._outbox.add_control(message):
            self._wake()

    def status(self, state: str, text: Optional[str] = None, *, progress: Optional[float] = None,
               tasks: Optional[Iterable[Union[Task, Mapping[str, Any]]]] = None) -> None:
        """Sets the agent's state (``starting``, ``running``, ``idle``, ``busy``,
        ``stopping``, ``stopped``, ``crashed``, ``error``) with an optional text,
        ``progress`` from 0 to 1 and ``tasks``, the current plan as
        :class:`agentdeck.Task` items. The latest status is sent again after every
        reconnect."""
        message = _items.status_message(state, text, progress, tasks)
        _check_size(message, "status")
        self._outbox.set_sticky("status", message)
        self._wake()

    def loguru_sink(self, message: Any) -> None:
        """A loguru sink: ``logger.add(agent.loguru_sink)``."""
        from ._logging import forward_loguru_message
        forward_loguru_message(self, message)

    # -- questions -----------------------------------------------------------------

    async def ask(self, text: str, choices: Optional[Iterable[str]] = None, *,
                  timeout: Optional[float] = None) -> Any:
        """Asks a person watching the agent, and returns their answer (one of
        ``choices`` when given). The question stays open across reconnects until a
        viewer answers it. Raises :class:`TimeoutError` after ``timeout`` seconds (the
        question stays open on the host; a later answer is refused) and
        :class:`agentdeck.RefusedError` when the host does not take the question
        (too large, or too many open questions)."""
        self._require_started()
        self._raise_if_unusable()
        assert self._loop is not None
        ask_id = "q-" + uuid.uuid4().hex[:16]
        message: Dict[str, Any] = {"type": "ask", "id": ask_id, "text": _items.clean(text, _MAX_ASK_TEXT)}
        if choices is not None:
            message["choices"] = [_items.clean(choice, 1024) for choice in choices]
        _check_size(message, "the question")
        future: "asyncio.Future[Any]" = self._loop.create_future()
        self._asks[ask_id] = future
        self._outbox.set_sticky("ask:" + ask_id, message)
        self._wake()
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no answer to {text!r} within {timeout} s") from None
        finally:
            self._asks.pop(ask_id, None)
            self._outbox.remove_sticky("ask:" + ask_id)

    # -- lifetime ------------------------------------------------------------------

    async def start(self) -> None:
        """Starts connecting in the running loop and waits for the first attempt:
        returns when the host welcomed the agent or could not be reached (then the
        agent keeps trying in the background and buffers meanwhile); raises
        :class:`agentdeck.RefusedError` (e.g. :class:`agentdeck.AuthenticationError`)
        when the host refused it."""
        if self._runner is not None:
            raise RuntimeError("the agent was already started")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._wake_event = asyncio.Event()
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._first_attempt = loop.create_future()
        self._runner = loop.create_task(self._run())
        await asyncio.shield(self._first_attempt)

    async def wait_connected(self, timeout: Optional[float] = None) -> bool:
        """Waits until the agent is connected; False after ``timeout`` seconds."""
        self._require_started()
        deadline = None if timeout is None else self._now() + timeout
        while True:
            self._raise_if_unusable()
            if self.connected:
                return True
            if not await self._wait_for_change(deadline):
                return False

    async def flush(self, timeout: Optional[float] = 10.0) -> bool:
        """Waits until everything published before the call has been written and the
        host has read it (a WebSocket ping sent after it was answered); across
        reconnects if need be. Returns False when ``timeout`` seconds passed first."""
        self._require_started()
        deadline = None if timeout is None else self._now() + timeout
        mark = self._outbox.mark()
        while True:
            self._raise_if_unusable()
            ws, generation = self._ws, self._generation
            if ws is not None and not self._writing and self._outbox.written_through(mark):
                try:
                    pong = await ws.ping()
                    remaining = None if deadline is None else max(0.0, deadline - self._now())
                    await asyncio.wait_for(asyncio.shield(pong), remaining)
                    if generation == self._generation:
                        return True
                except asyncio.TimeoutError:
                    return False
                except (websockets.exceptions.ConnectionClosed, RuntimeError):
                    # The connection is gone, and the session has yet to notice: wait
                    # for it (a ping on a closed connection fails without yielding).
                    if not await self._wait_for_change(deadline):
                        return False
                continue
            if not await self._wait_for_change(deadline):
                return False

    async def run_forever(self) -> None:
        """Waits until the agent is closed; raises the refusal that stopped it, if one did."""
        self._require_started()
        assert self._finished is not None
        await self._finished.wait()
        self._raise_if_failed()

    async def close(self, timeout: float = 5.0) -> bool:
        """Flushes (for at most ``timeout`` seconds), says goodbye to the host and
        stops. Returns whether everything was flushed. Safe to call more than once
        and from several tasks: each returns when the one close has finished."""
        if self._runner is None:
            return True
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close(timeout))
        # Shielded: a caller that is cancelled (a command handler the close cancels
        # among others) leaves the close running.
        return await asyncio.shield(self._close_task)

    async def _close(self, timeout: float) -> bool:
        assert self._runner is not None
        flushed = False
        if self._fatal is None:
            try:
                flushed = await self.flush(timeout)
            except AgentDeckError:
                flushed = False
            if not flushed:
                _log.warning("agent %s closed with %d items the host has not confirmed",
                             self.agent_id, self._outbox.pending())
        self._closing = True
        ws = self._ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(1000), 2.0)
            except Exception:  # the connection is going away either way
                pass
        self._runner.cancel()
        try:
            await self._runner
        except (asyncio.CancelledError, Exception):
            pass
        for task in list(self._command_tasks):
            task.cancel()
        for future in self._asks.values():
            if not future.done():
                future.set_exception(AgentDeckError("the agent was closed"))
        assert self._finished is not None
        self._finished.set()
        self._notify()
        return flushed

    async def __aenter__(self) -> "AsyncAgent":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- internals -------------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _require_started(self) -> None:
        if self._runner is None:
            raise RuntimeError("the agent is not started: use 'async with' or await start() first")

    def _raise_if_failed(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    def _raise_if_unusable(self) -> None:
        self._raise_if_failed()
        if self._closing:
            raise AgentDeckError("the agent was closed")

    def _wake(self) -> None:
        """Tells the writer there is something to send; from any thread."""
        loop = self._loop
        if loop is None or self._wake_event is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake_event.set()
            return
        if not self._wake_scheduled:
            self._wake_scheduled = True
            try:
                loop.call_soon_threadsafe(self._wake_in_loop)
            except RuntimeError:  # the loop is closed; the outbox keeps the item
                self._wake_scheduled = False

    def _wake_in_loop(self) -> None:
        self._wake_scheduled = False
        if self._wake_event is not None:
            self._wake_event.set()

    def _notify(self) -> None:
        """Wakes everything waiting for a change of the connection or the outbox."""
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def _wait_for_change(self, deadline: Optional[float]) -> bool:
        assert self._changed is not None
        changed = self._changed
        if deadline is None:
            await changed.wait()
            return True
        remaining = deadline - self._now()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(changed.wait(), remaining)
        except asyncio.TimeoutError:
            return False
        return True

    def _settle_first_attempt(self, error: Optional[BaseException] = None) -> None:
        first = self._first_attempt
        if first is not None and not first.done():
            if error is not None:
                first.set_exception(error)
            else:
                first.set_result(self.connected)

    def _fail(self, error: AgentDeckError) -> None:
        self._fatal = error
        _log.error("agent %s stopped: %s", self.agent_id, error)
        self._settle_first_attempt(error)
        for future in self._asks.values():
            if not future.done():
                future.set_exception(error)
        if self._finished is not None:
            self._finished.set()
        self._notify()

    def _backoff(self, attempt: int) -> float:
        base = self._backoff_initial * (2 ** min(attempt, 30))
        return min(self._backoff_max, base * random.uniform(0.8, 1.2))

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            welcomed_before = self._generation
            try:
                await self._session()
                if not self._closing:
                    _log.warning("agent %s: the host closed the connection; reconnecting", self.agent_id)
            except RefusedError as error:
                self._fail(error)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = str(error) or type(error).__name__
                if self._generation != welcomed_before:
                    _log.warning("agent %s: lost the connection to %s (%s); reconnecting", self.agent_id,
                                 self.url, reason)
                elif attempt == 0:
                    _log.warning("agent %s: cannot reach %s (%s); retrying with backoff", self.agent_id,
                                 self.url, reason)
                else:
                    _log.debug("agent %s: attempt %d failed: %s", self.agent_id, attempt + 1, reason)
            finally:
                self._settle_first_attempt()
            if self._generation != welcomed_before:
                attempt = 0
            if self._closing:
                return
            await self._sleep_unless_closing(self._backoff(attempt))
            attempt += 1

    async def _sleep_unless_closing(self, delay: float) -> None:
        assert self._finished is not None
        try:
            await asyncio.wait_for(self._finished.wait(), delay)
        except asyncio.TimeoutError:
            pass

    def _hello(self, token: str) -> Dict[str, Any]:
        commands: List[Dict[str, str]] = []
        for command in self._commands.values():
            entry = {"name": command.name}
            if command.help:
                entry["help"] = command.help
            commands.append(entry)
        return {"type": "hello", "protocol": 1, "role": "agent", "token": token, "client": _CLIENT,
                "agent": {"id": self.agent_id, "name": self.name, "pid": self._pid, "commands": commands}}

    async def _session(self) -> None:
        """One connection, from the upgrade to its end; returns normally when the host
        closed it, raises when it failed or refused the agent."""
        token = self._settings.read_token()
        ws = await asyncio.wait_for(
            websockets.connect(self.url, open_timeout=self._connect_timeout, ping_interval=20, ping_timeout=20,
                               close_timeout=2, max_size=16 * 1024 * 1024, compression=None),
            self._connect_timeout + 1)
        try:
            await ws.send(dumps(self._hello(token)))
            try:
                raw = await asyncio.wait_for(ws.recv(), self._connect_timeout)
            except websockets.exceptions.ConnectionClosed:
                if ws.close_code == 1008:
                    # Refused without an error message first: as the protocol's checks do.
                    raise RefusedError("refused", ws.close_reason or "", ws.close_code) from None
                raise
            welcome = json.loads(raw) if isinstance(raw, str) else {}
            if not isinstance(welcome, dict) or welcome.get("type") != "welcome":
                if isinstance(welcome, dict) and welcome.get("type") == "error":
                    code = welcome.get("code")
                    if code in _FATAL_CODES:
                        raise _refusal(welcome)
                    raise ConnectionError(f"the host answered hello with {code}: {welcome.get('text', '')}")
                raise RefusedError("bad_message", f"the host answered hello with {str(raw)[:200]}")
            host = welcome.get("host") if isinstance(welcome.get("host"), dict) else {}
            resume = welcome.get("resume_from") if isinstance(welcome.get("resume_from"), dict) else {}
            self._outbox.connected(str(host.get("id", "")), resume)
            self._host = dict(host)
            self._ws = ws
            self._generation += 1
            self._notify()
            self._settle_first_attempt()
            _log.info("agent %s connected to %s (host %s has log %s, forum %s)", self.agent_id, self.url,
                      host.get("name", "?"), resume.get("log", 0), resume.get("forum", 0))
            dropped = self._outbox.take_unreported_drops()
            if dropped:
                _log.warning("agent %s: the buffer was full while the host was away; %d items were dropped "
                             "(viewers see a gap)", self.agent_id, dropped)
            await self._serve(ws)
        finally:
            self._ws = None
            self._outbox.disconnected()
            self._notify()
            try:
                await asyncio.wait_for(ws.close(), 2.0)
            except Exception:  # already closed or unreachable: nothing more to do
                pass

    async def _serve(self, ws: Any) -> None:
        assert self._loop is not None
        tasks = {self._loop.create_task(self._read(ws)), self._loop.create_task(self._write(ws)),
                 self._loop.create_task(self._acknowledge(ws))}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if ws.close_code == 4000:
            raise ReplacedError(ws.close_reason or "replaced")
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, websockets.exceptions.ConnectionClosed):
                raise error

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                if not isinstance(raw, str):
                    continue
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self._on_message(message)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _write(self, ws: Any) -> None:
        assert self._wake_event is not None
        while True:
            self._wake_event.clear()
            text = self._outbox.next_message()
            if text is None:
                await self._wake_event.wait()
                continue
            self._writing = True
            try:
                await ws.send(text)
            finally:
                self._writing = False
                self._notify()
            await asyncio.sleep(0)

    async def _acknowledge(self, ws: Any) -> None:
        """Once a second, learns with a ping which written items the host has read:
        should the host come back with another history (its state lost), only the
        items after those are sent again."""
        acknowledged: Dict[str, int] = {}
        try:
            while True:
                await asyncio.sleep(_ACK_INTERVAL)
                if self._writing:
                    continue
                written = self._outbox.written_numbers()
                if written == acknowledged:
                    continue
                pong = await ws.ping()
                try:
                    await asyncio.wait_for(pong, _ACK_INTERVAL * 10)
                except asyncio.TimeoutError:
                    continue
                self._outbox.acknowledge(written)
                acknowledged = written
        except websockets.exceptions.ConnectionClosed:
            pass

    def _on_message(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "command":
            self._on_command(message)
        elif kind == "error":
            ref = message.get("ref")
            future = self._asks.get(ref) if isinstance(ref, str) else None
            if future is not None and not future.done():
                # The host did not take the question: the one asking learns why.
                assert isinstance(ref, str)
                self._outbox.remove_sticky("ask:" + ref)
                future.set_exception(RefusedError(str(message.get("code", "")), str(message.get("text", ""))))
                return
            _log.warning("agent %s: the host reports %s: %s", self.agent_id, message.get("code"),
                         message.get("text", ""))

    def _send_result(self, command_id: str, ok: bool, text: Optional[str] = None, error: Optional[str] = None,
                     data: Any = None) -> None:
        result: Dict[str, Any] = {"type": "result", "id": command_id, "ok": ok}
        if text is not None:
            result["text"] = _items.clean(text, _MAX_RESULT_TEXT)
        if error is not None:
            result["error"] = error
        if data is not None:
            result["data"] = data
        if self._outbox.add_control(result):
            self._wake()

    def _on_command(self, message: Dict[str, Any]) -> None:
        command_id = message.get("id")
        name = message.get("name")
        args = message.get("args") if isinstance(message.get("args"), dict) else {}
        if not isinstance(command_id, str):
            return
        if name == "answer":
            self._on_answer(command_id, args)
            return
        command = self._commands.get(name) if isinstance(name, str) else None
        if command is None:
            self._send_result(command_id, False, f"unknown command {name!r}")
            return
        assert self._loop is not None
        task = self._loop.create_task(self._run_command(command, command_id, args))
        self._command_tasks.add(task)
        task.add_done_callback(self._command_tasks.discard)

    def _on_answer(self, command_id: str, args: Dict[str, Any]) -> None:
        ask_id = args.get("ask")
        future = self._asks.get(ask_id) if isinstance(ask_id, str) else None
        if future is None or future.done():
            self._send_result(command_id, False, f"no open question {ask_id!r}")
            return
        choice = args.get("choice")
        self._outbox.remove_sticky("ask:" + ask_id)
        future.set_result(choice)
        self._send_result(command_id, True, f"answered: {choice}")

    async def _run_command(self, command: _Command, command_id: str, args: Dict[str, Any]) -> None:
        assert self._loop is not None
        call_args = (args,) if command.takes_args else ()
        try:
            if command.is_async:
                value = await command.handler(*call_args)
            else:
                value = await _in_daemon_thread(self._loop, lambda: command.handler(*call_args),
                                                f"agentdeck-{self.agent_id}-{command.name}")
                if inspect.isawaitable(value):
                    value = await value
        except asyncio.CancelledError:
            raise
        except CommandError as error:
            self._send_result(command_id, False, error.text, error.error)
            return
        except Exception as error:
            _log.warning("agent %s: command %s failed", self.agent_id, command.name, exc_info=True)
            self._send_result(command_id, False, f"{type(error).__name__}: {error}")
            return
        self._send_result(command_id, *_result_of(value))


def _check_size(message: Mapping[str, Any], what: str) -> None:
    size = len(dumps(message).encode("utf-8"))
    if size > _MAX_CONTROL_BYTES:
        raise ValueError(f"{what} is {size} bytes as JSON, over the host's limit of {_MAX_CONTROL_BYTES}")


def _in_daemon_thread(loop: asyncio.AbstractEventLoop, call: Callable[[], Any], name: str) -> "asyncio.Future[Any]":
    """Runs a blocking command handler on a thread of its own that does not keep the
    program from exiting (an executor's threads are waited for at exit)."""
    future: "asyncio.Future[Any]" = loop.create_future()

    def settle(value: Any, error: Optional[BaseException]) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def run() -> None:
        value: Any = None
        error: Optional[BaseException] = None
        try:
            value = call()
        except Exception as caught:  # handed to the awaiting task, which reports it
            error = caught
        except BaseException as caught:  # SystemExit and the like end only this thread
            error = RuntimeError(f"the handler raised {type(caught).__name__}")
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is closed: nobody waits for the result any more
            pass

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def _result_of(value: Any) -> Tuple[bool, Optional[str], Optional[str], Any]:
    """``ok``, ``text``, ``error`` and ``data`` of a result for a handler's return value."""
    if value is None or value is True:
        return True, None, None, None
    if value is False:
        return False, None, None, None
    if isinstance(value, str):
        return True, value, None, None
    try:
        text = dumps(value)
    except (TypeError, ValueError):
        return True, str(value), None, None
    return True, text if len(text) <= 1024 else None, None, value
