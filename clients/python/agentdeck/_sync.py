# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent for programs without asyncio: the same connection on a thread of its own."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
import weakref
from typing import Any, Callable, Coroutine, Dict, Iterable, Mapping, Optional, TypeVar, Union

from ._core import AsyncAgent, CommandHandler
from ._errors import AgentDeckError, RefusedError
from ._items import Level, Task, When

__all__ = ["Agent"]

_T = TypeVar("_T")
_Handler = TypeVar("_Handler", bound=CommandHandler)


class Agent:
    """An agent for ordinary (threaded or single-threaded) programs.

    ::

        with Agent("my-bot", name="My Bot") as agent:
            agent.log("starting")
            agent.status("busy", "crawling", progress=0.1)
            if agent.ask("Publish the report?", ["approve", "reject"]) == "approve":
                ...

    It takes the same arguments as :class:`agentdeck.AsyncAgent` and runs one on a
    background thread with an event loop of its own. Every method may be called from
    any thread; :meth:`log`, :meth:`forum` and the other publishing methods never
    block. Command handlers run in worker threads (plain functions) or in the
    background loop (coroutine functions).

    Without ``with``, call :meth:`start` and, at the end, :meth:`close`; an agent
    still open when the interpreter exits is closed then (flushing for a few seconds).
    """

    def __init__(self, agent_id: Optional[str] = None, **options: Any) -> None:
        self._core = AsyncAgent(agent_id, **options)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._closed = False
        self._closing_task: Optional["asyncio.Task[None]"] = None
        self._close_result = True  # what the close returned, for callers that waited for it
        self._stopped = threading.Event()  # the loop has ended (set by its thread)

    # -- description -------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The agent's id on the host."""
        return self._core.agent_id

    @property
    def name(self) -> str:
        """The agent's display name."""
        return self._core.name

    @property
    def url(self) -> str:
        """The host's address."""
        return self._core.url

    @property
    def connected(self) -> bool:
        """Whether the agent is connected and welcomed right now."""
        return self._core.connected

    @property
    def host(self) -> Optional[Dict[str, Any]]:
        """The host's ``id``, ``name`` and ``version`` from its last ``welcome``."""
        return self._core.host

    @property
    def error(self) -> Optional[AgentDeckError]:
        """The refusal that stopped the agent, if one did."""
        return self._core.error

    @property
    def core(self) -> AsyncAgent:
        """The :class:`agentdeck.AsyncAgent` doing the work (for its coroutines, run
        with :meth:`call`)."""
        return self._core

    def dropped(self) -> Dict[str, int]:
        """Items dropped from the full buffer before the host had them, per kind."""
        return self._core.dropped()

    def pending(self) -> int:
        """How many items and messages wait to be written."""
        return self._core.pending()

    # -- commands and publishing -------------------------------------------------------

    def command(self, name: str, *, help: Optional[str] = None) -> Callable[[_Handler], _Handler]:
        """A decorator for a command handler; see :meth:`agentdeck.AsyncAgent.command`."""
        return self._core.command(name, help=help)

    def add_command(self, name: str, handler: CommandHandler, *, help: Optional[str] = None) -> None:
        """Registers ``handler`` for the command ``name``."""
        self._core.add_command(name, handler, help=help)

    def log(self, text: object, *, level: Level = None, source: Optional[str] = None, stream: str = "stdout",
            ts: When = None) -> None:
        """Adds one console line; see :meth:`agentdeck.AsyncAgent.log`."""
        self._core.log(text, level=level, source=source, stream=stream, ts=ts)

    def partial(self, text: object, *, stream: str = "stdout", level: Level = None) -> None:
        """Shows the unfinished last line of a stream; see :meth:`agentdeck.AsyncAgent.partial`."""
        self._core.partial(text, stream=stream, level=level)

    def forum(self, text: object, *, sender: Optional[str] = None, role: str = "agent",
              source: Optional[str] = None, ts: When = None) -> None:
        """Posts a forum message; see :meth:`agentdeck.AsyncAgent.forum`."""
        self._core.forum(text, sender=sender, role=role, source=source, ts=ts)

    def metrics(self, values: Optional[Mapping[str, Any]] = None, *, ts: When = None, **more: Any) -> None:
        """Sends measurements; see :meth:`agentdeck.AsyncAgent.metrics`."""
        self._core.metrics(values, ts=ts, **more)

    def status(self, state: str, text: Optional[str] = None, *, progress: Optional[float] = None,
               tasks: Optional[Iterable[Union[Task, Mapping[str, Any]]]] = None) -> None:
        """Sets the agent's state; see :meth:`agentdeck.AsyncAgent.status`."""
        self._core.status(state, text, progress=progress, tasks=tasks)

    def loguru_sink(self, message: Any) -> None:
        """A loguru sink: ``logger.add(agent.loguru_sink)``."""
        from ._logging import forward_loguru_message
        forward_loguru_message(self, message)

    # -- blocking calls ----------------------------------------------------------------

    def ask(self, text: str, choices: Optional[Iterable[str]] = None, *, timeout: Optional[float] = None) -> Any:
        """Asks a person and blocks until the answer; see :meth:`agentdeck.AsyncAgent.ask`."""
        return self.call(self._core.ask(text, list(choices) if choices is not None else None, timeout=timeout))

    def flush(self, timeout: Optional[float] = 10.0) -> bool:
        """Blocks until the host has read everything published before the call;
        False after ``timeout`` seconds."""
        return self.call(self._core.flush(timeout))

    def wait_connected(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the agent is connected; False after ``timeout`` seconds."""
        return self.call(self._core.wait_connected(timeout))

    def run_forever(self) -> None:
        """Blocks until :meth:`close` is called from another thread or a command
        handler, or Ctrl-C (which returns quietly, so that ``with`` closes the agent);
        raises the refusal that stopped the agent, if one did. When a close is already
        under way (from a command handler, say) it returns once that close has
        flushed and finished."""
        try:
            if self._closed:
                self._wait_until_stopped()
                return
            self._call(self._core.run_forever())
        except KeyboardInterrupt:
            pass
        except AgentDeckError as error:
            # Closed while it was starting to wait: the loop stopped before it ran.
            if not self._closed or isinstance(error, RefusedError):
                raise
            self._wait_until_stopped()

    def call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Runs a coroutine in the agent's loop and blocks until its result."""
        if self._closed:
            coroutine.close()
            raise AgentDeckError("the agent was closed")
        return self._call(coroutine)

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        loop = self._loop
        if loop is None or loop.is_closed():
            coroutine.close()
            raise RuntimeError("the agent is not started: use 'with Agent(...)' or call start() first")
        if threading.get_ident() == getattr(self._thread, "ident", None):
            coroutine.close()
            raise RuntimeError("a blocking Agent method was called in the agent's own loop; "
                               "use agent.core and await it instead")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        thread = self._thread
        try:
            while True:
                try:
                    return future.result(timeout=0.5)
                except concurrent.futures.TimeoutError:
                    if future.done():
                        raise  # the coroutine's own TimeoutError
                    # A loop that stopped (the agent closed meanwhile) never runs it.
                    if thread is None or not thread.is_alive():
                        raise AgentDeckError("the agent was closed") from None
        except concurrent.futures.CancelledError:
            raise AgentDeckError("the agent was closed") from None
        except BaseException:
            future.cancel()
            raise

    # -- lifetime --------------------------------------------------------------------

    def start(self) -> "Agent":
        """Starts the background thread and waits for the first connection attempt;
        raises :class:`agentdeck.RefusedError` when the host refused the agent."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("the agent was already started")
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._thread = threading.Thread(target=self._serve, args=(loop, self._stopped),
                                            name=f"agentdeck-{self.agent_id}", daemon=True)
            self._thread.start()
        _open_agents.add(self)
        try:
            self.call(self._core.start())
        except BaseException:
            with self._lock:
                self._closed = True
            self._stop_thread()
            _open_agents.discard(self)
            raise
        return self

    def close(self, timeout: float = 5.0) -> bool:
        """Flushes for at most ``timeout`` seconds, disconnects and stops the thread.
        Returns whether everything was flushed. Safe to call more than once: while
        another thread closes the agent, it waits for that close and returns its
        result. From a coroutine command handler it returns False at once and the
        agent closes (and flushes) as soon as the handler yields."""
        with self._lock:
            if self._loop is None:
                return True
            already = self._closed
            self._closed = True
        loop, thread = self._loop, self._thread
        in_loop = thread is not None and thread.ident == threading.get_ident()
        if already:
            if not in_loop:
                self._wait_until_stopped()
            return self._close_result
        if in_loop:
            # From a coroutine handler, in the agent's own loop: it cannot block there,
            # so the loop closes the agent (flushing as usual) and then stops.
            async def close_and_stop() -> None:
                try:
                    self._close_result = await self._core.close(timeout)
                finally:
                    loop.stop()

            # Held here: the loop keeps only a weak reference to its tasks.
            self._closing_task = loop.create_task(close_and_stop())
            _open_agents.discard(self)
            return False
        try:
            self._close_result = bool(self._call(self._core.close(timeout)))
            return self._close_result
        finally:
            self._stop_thread()
            _open_agents.discard(self)

    def __enter__(self) -> "Agent":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, stopped: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # Worker threads of command handlers are not waited for: one may be the
            # thread that is closing the agent.
            loop.close()
            stopped.set()

    def _wait_until_stopped(self) -> None:
        """Waits for a close that another thread (or the loop) has begun."""
        thread = self._thread
        while not self._stopped.wait(0.5):
            if thread is None or not thread.is_alive():
                return

    def _stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.ident != threading.get_ident():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:  # the loop is already closed
                pass
            thread.join(10)
        else:
            loop.call_soon(loop.stop)


_open_agents: "weakref.WeakSet[Agent]" = weakref.WeakSet()


@atexit.register
def _close_open_agents() -> None:
    timeout = float(os.environ.get("AGENTDECK_EXIT_FLUSH_SECONDS", "5"))
    for agent in list(_open_agents):
        try:
            agent.close(timeout)
        except Exception:  # the interpreter is exiting: nothing left to report to
            pass
