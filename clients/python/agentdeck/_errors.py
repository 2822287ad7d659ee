# SPDX-License-Identifier: GPL-3.0-or-later
"""The exceptions of the client library."""

from __future__ import annotations

from typing import Optional


class AgentDeckError(Exception):
    """Base class of the errors this library raises."""


class TokenError(AgentDeckError):
    """The token could not be read (a missing or empty token file)."""


class RefusedError(AgentDeckError):
    """The host refused the connection for a reason a retry does not cure.

    ``code`` is the protocol's error code (``unauthorized``, ``unsupported``,
    ``bad_message``, ``forbidden``) or ``replaced`` when another connection took
    over this agent id; ``text`` is what the host said.
    """

    def __init__(self, code: str, text: str = "", close_code: Optional[int] = None) -> None:
        self.code = code
        self.text = text
        self.close_code = close_code
        super().__init__(self._describe())

    def _describe(self) -> str:
        details = f": {self.text}" if self.text else ""
        return f"the AgentDeck host refused the agent ({self.code}){details}"


class AuthenticationError(RefusedError):
    """The host did not accept the token (``unauthorized``)."""

    def _describe(self) -> str:
        details = f" ({self.text})" if self.text else ""
        return (f"the AgentDeck host did not accept the token{details}: check AGENTDECK_TOKEN, "
                "the token file, or the token passed to the agent")


class ReplacedError(RefusedError):
    """Another connection with the same agent id replaced this one (close 4000)."""

    def __init__(self, text: str = "replaced") -> None:
        super().__init__("replaced", text, 4000)

    def _describe(self) -> str:
        return "another connection with the same agent id replaced this one; not reconnecting"


class CommandError(AgentDeckError):
    """Raised by a command handler to answer ``ok: false`` with this text (and an
    optional protocol ``error`` code) without a traceback in the bot's log."""

    def __init__(self, text: str, error: Optional[str] = None) -> None:
        self.text = text
        self.error = error
        super().__init__(text)
