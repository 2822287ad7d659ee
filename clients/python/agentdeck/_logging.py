# SPDX-License-Identifier: GPL-3.0-or-later
"""Forwarding a program's existing logging (the standard library's or loguru's)."""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Iterable, Optional, Protocol

from ._items import When, level_name

__all__ = ["AgentDeckHandler", "LoguruSink", "loguru_sink", "forward_loguru_message"]


class _Publisher(Protocol):
    def log(self, text: object, *, level: Any = None, source: Optional[str] = None, stream: str = "stdout",
            ts: When = None) -> None: ...


_forwarding = threading.local()


class AgentDeckHandler(logging.Handler):
    """A :mod:`logging` handler that sends every record to an agent's console::

        agent = agentdeck.Agent("my-bot").start()
        logging.getLogger().addHandler(agentdeck.AgentDeckHandler(agent))

    Each record becomes one console line: its level mapped to the protocol's
    (custom levels to the nearest below), the logger's name as the line's
    ``source``, the record's time as its ``ts``, and the text as the handler's
    formatter makes it (by default the message, then an exception's traceback as
    further lines of the same entry). Records of the loggers in ``exclude``
    (by default ``websockets``, whose records describe the agent's own connection)
    are left out. ``agent`` is an :class:`agentdeck.Agent` or
    :class:`agentdeck.AsyncAgent`; sending never blocks.
    """

    def __init__(self, agent: _Publisher, level: int = logging.NOTSET, *, stream: str = "stdout",
                 exclude: Iterable[str] = ("websockets",)) -> None:
        super().__init__(level)
        self.agent = agent
        self.stream = stream
        self.exclude = tuple(exclude)

    def _excluded(self, name: str) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in self.exclude)

    def emit(self, record: logging.LogRecord) -> None:
        if self._excluded(record.name) or getattr(_forwarding, "active", False):
            return
        _forwarding.active = True
        try:
            self.agent.log(self.format(record), level=level_name(record.levelno), source=record.name,
                           stream=self.stream, ts=record.created)
        except Exception:
            self.handleError(record)
        finally:
            _forwarding.active = False


def forward_loguru_message(agent: _Publisher, message: Any, stream: str = "stdout") -> None:
    """Sends one loguru message (a str with a ``record`` dict, as loguru hands it to
    a sink) to the agent's console: the record's message, its exception's traceback
    as further lines of the same entry, its level, its module name as ``source`` and
    its time as ``ts``."""
    record = message.record
    text = str(record["message"])
    exception = record.get("exception")
    if exception is not None:
        kind, value, tb = exception
        if kind is not None or value is not None:
            formatted = "".join(traceback.format_exception(kind, value, tb)).rstrip("\n")
            text = f"{text}\n{formatted}" if text else formatted
    level = record.get("level")
    try:
        protocol_level = level_name(getattr(level, "name", None) or str(level))
    except (TypeError, ValueError):
        number = getattr(level, "no", None)
        protocol_level = level_name(number) if isinstance(number, int) else None
    name = record.get("name")
    agent.log(text, level=protocol_level, source=str(name) if name else None, stream=stream,
              ts=record.get("time"))


class LoguruSink:
    """A loguru sink forwarding to an agent: ``logger.add(LoguruSink(agent))``.
    Works without loguru installed (it only reads the message's ``record``)."""

    def __init__(self, agent: _Publisher, *, stream: str = "stdout") -> None:
        self.agent = agent
        self.stream = stream

    def __call__(self, message: Any) -> None:
        forward_loguru_message(self.agent, message, self.stream)


def loguru_sink(agent: _Publisher, *, stream: str = "stdout") -> LoguruSink:
    """A loguru sink for ``agent``: ``logger.add(agentdeck.loguru_sink(agent))``."""
    return LoguruSink(agent, stream=stream)
