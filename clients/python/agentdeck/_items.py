# SPDX-License-Identifier: GPL-3.0-or-later
"""Checking and shaping what a bot sends, before it is queued."""

from __future__ import annotations

import datetime
import logging
import math
import time
from dataclasses import dataclass
from typing import Iterable, List, Mapping, Optional, Union

LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "SUCCESS": "INFO", "EXCEPTION": "ERROR"}
STREAMS = ("stdout", "stderr")
ROLES = ("agent", "host", "system", "user")
STATES = ("starting", "running", "idle", "busy", "stopping", "stopped", "crashed", "error")
TASK_STATES = ("pending", "running", "done", "failed")

#: A text longer than this (in UTF-8 bytes) is cut, so that one item always fits in
#: a message the host takes (1 MiB).
MAX_TEXT_BYTES = 128 * 1024
_MAX_FIELD_CHARS = 1024

Level = Union[str, int, None]
When = Union[datetime.datetime, float, int, None]


@dataclass(frozen=True)
class Task:
    """One step of an agent's plan, for :meth:`AsyncAgent.status`.

    ``state`` is ``pending``, ``running``, ``done`` or ``failed``.
    """

    id: str
    title: str
    state: str = "pending"

    def to_json(self) -> dict:
        """The task as the protocol writes it."""
        if self.state not in TASK_STATES:
            raise ValueError(f"task state {self.state!r} is not one of {', '.join(TASK_STATES)}")
        return {"id": str(self.id), "title": clean(self.title, _MAX_FIELD_CHARS * 4), "state": self.state}


def level_name(level: Level) -> Optional[str]:
    """A protocol level for a name (any case, aliases) or a :mod:`logging` number;
    None when not given. An unknown name raises ValueError."""
    if level is None:
        return None
    if isinstance(level, bool):
        raise TypeError("a level is a name or a logging number")
    if isinstance(level, int):
        if level >= logging.CRITICAL:
            return "CRITICAL"
        if level >= logging.ERROR:
            return "ERROR"
        if level >= logging.WARNING:
            return "WARNING"
        if level >= logging.INFO:
            return "INFO"
        if level >= logging.DEBUG:
            return "DEBUG"
        return "TRACE"
    name = str(level).strip().upper()
    name = _LEVEL_ALIASES.get(name, name)
    if name not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    return name


def millis(when: When) -> int:
    """Milliseconds since the epoch for a datetime (naive means local time, as
    :meth:`datetime.datetime.timestamp` reads it) or seconds since the epoch
    (as :func:`time.time` gives); now when None."""
    if when is None:
        return time.time_ns() // 1_000_000
    if isinstance(when, datetime.datetime):
        return int(when.timestamp() * 1000)
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
        raise TypeError("a time is a datetime or seconds since the epoch")
    return int(when * 1000)


def clean(text: object, limit_bytes: int = MAX_TEXT_BYTES) -> str:
    """``text`` as a str that encodes as UTF-8 (lone surrogates become U+FFFD), cut at
    a character boundary to ``limit_bytes`` with a note saying how much was cut."""
    if not isinstance(text, str):
        text = str(text)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text
    head = encoded[:limit_bytes].decode("utf-8", "ignore")
    cut = len(encoded) - len(head.encode("utf-8"))
    return f"{head} … [cut: {cut:,} more bytes]"


def split_lines(text: str) -> List[str]:
    """One piece per ``\\n`` (a ``\\r`` before it removed; a trailing newline adds no
    empty line), as the host splits an unnumbered line."""
    if "\n" not in text:
        return [text[:-1] if text.endswith("\r") else text]
    pieces = text.split("\n")
    if pieces[-1] == "":
        pieces.pop()
    return [piece[:-1] if piece.endswith("\r") else piece for piece in pieces]


def log_fields(text: str, level: Optional[str], source: Optional[str], stream: str, ts: int) -> dict:
    """The fields of one console line, ``seq`` aside."""
    fields: dict = {"ts": ts, "stream": stream}
    if level is not None:
        fields["level"] = level
    if source is not None:
        fields["source"] = clean(source, _MAX_FIELD_CHARS)
    fields["text"] = text
    return fields


def check_stream(stream: str) -> str:
    if stream not in STREAMS:
        raise ValueError(f"stream {stream!r} is not stdout or stderr")
    return stream


def forum_fields(text: object, sender: Optional[str], role: str, source: Optional[str], ts: int) -> dict:
    """The fields of one forum message, ``seq`` aside."""
    if role not in ROLES:
        raise ValueError(f"forum role {role!r} is not one of {', '.join(ROLES)}")
    fields: dict = {"ts": ts, "role": role}
    if sender is not None:
        fields["sender"] = clean(sender, _MAX_FIELD_CHARS)
    if source is not None:
        fields["source"] = clean(source, _MAX_FIELD_CHARS)
    fields["text"] = clean(text)
    return fields


def metric_values(values: Mapping[str, object]) -> dict:
    """The finite numbers of ``values`` (the host takes only numbers, and JSON has no NaN)."""
    result = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        result[clean(key, _MAX_FIELD_CHARS)] = value
    return result


def status_message(state: str, text: Optional[str], progress: Optional[float],
                   tasks: Optional[Iterable[Union[Task, Mapping[str, object]]]]) -> dict:
    """A ``status`` message; raises ValueError for a state or task state the protocol
    does not have."""
    if state not in STATES:
        raise ValueError(f"state {state!r} is not one of {', '.join(STATES)}")
    message: dict = {"type": "status", "state": state}
    if text is not None:
        message["text"] = clean(text, 8 * 1024)
    if progress is not None:
        if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not math.isfinite(progress):
            raise ValueError("progress is a number from 0 to 1")
        message["progress"] = min(1.0, max(0.0, float(progress)))
    if tasks is not None:
        converted = []
        for task in tasks:
            if isinstance(task, Task):
                converted.append(task.to_json())
            elif isinstance(task, Mapping):
                converted.append(Task(str(task.get("id", len(converted) + 1)), str(task.get("title", "")),
                                      str(task.get("state", "pending"))).to_json())
            else:
                raise TypeError("a task is an agentdeck.Task or a mapping with id, title and state")
        message["tasks"] = converted
    return message
