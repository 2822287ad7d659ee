# SPDX-License-Identifier: GPL-3.0-or-later
"""Connects a bot to an AgentDeck host.

::

    from agentdeck import Agent

    with Agent("my-bot", name="My Bot") as agent:
        @agent.command("pause", help="stop taking new tasks")
        def pause(args):
            return "paused"

        agent.log("starting")
        agent.status("busy", "crawling", progress=0.2)

:class:`Agent` is for ordinary programs (it runs its connection on a thread of its
own); :class:`AsyncAgent` runs in the caller's asyncio loop. Both reconnect with
backoff, resume where the host left off, and buffer while the host is away.
:class:`AgentDeckHandler` and :func:`loguru_sink` forward an existing program's
logs; ``python3 -m agentdeck run --id NAME -- command args...`` forwards any
program's output.
"""

from ._core import AsyncAgent, CommandHandler
from ._errors import (AgentDeckError, AuthenticationError, CommandError, RefusedError, ReplacedError,
                      TokenError)
from ._items import Task
from ._logging import AgentDeckHandler, LoguruSink, loguru_sink
from ._sync import Agent

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AsyncAgent",
    "Task",
    "AgentDeckHandler",
    "LoguruSink",
    "loguru_sink",
    "CommandHandler",
    "AgentDeckError",
    "AuthenticationError",
    "CommandError",
    "RefusedError",
    "ReplacedError",
    "TokenError",
]
