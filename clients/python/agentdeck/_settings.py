# SPDX-License-Identifier: GPL-3.0-or-later
"""Where an agent connects, with which token and under which id."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union
from urllib.parse import urlsplit

from ._errors import TokenError

DEFAULT_URL = "ws://127.0.0.1:7700/"
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def default_token_file(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The token file of the desktop app's embedded host: ``$XDG_CONFIG_HOME/agentdeck/token``,
    ``~/.config/agentdeck/token`` when ``XDG_CONFIG_HOME`` is not set."""
    env = os.environ if environ is None else environ
    config_home = env.get("XDG_CONFIG_HOME") or ""
    base = Path(config_home) if os.path.isabs(config_home) else Path.home() / ".config"
    return base / "agentdeck" / "token"


@dataclass(frozen=True)
class Settings:
    """The resolved connection settings of one agent.

    The token is either given (``token``) or read from ``token_file`` at every
    connection attempt, so a bot may start before the host has written its token.
    """

    agent_id: str
    name: str
    url: str
    token: Optional[str]
    token_file: Optional[Path]

    def read_token(self) -> str:
        """The token to send in ``hello``; raises :class:`TokenError` when there is none."""
        if self.token is not None:
            return self.token
        assert self.token_file is not None
        try:
            text = self.token_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise TokenError(f"cannot read the token file {self.token_file}: {e.strerror or e}") from None
        if not text:
            raise TokenError(f"the token file {self.token_file} is empty")
        return text


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(agent_id: Optional[str] = None, *, name: Optional[str] = None, url: Optional[str] = None,
            token: Optional[str] = None, token_file: Union[str, "os.PathLike[str]", None] = None,
            environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Settings from the arguments, else the environment a host gives the programs it
    launches (``AGENTDECK_AGENT_ID``, ``AGENTDECK_AGENT_NAME``, ``AGENTDECK_URL``,
    ``AGENTDECK_TOKEN``; also ``AGENTDECK_TOKEN_FILE``, a file holding the token), else
    the desktop app's defaults (``ws://127.0.0.1:7700/`` and its token file).
    ``AGENTDECK_TOKEN`` and ``AGENTDECK_TOKEN_FILE`` are used only for ``AGENTDECK_URL``
    (or no url given) or a loopback address, and the desktop app's token file only for a
    loopback address, so that a token is never sent to another machine than the one it
    belongs to.

    Raises ValueError for a missing or malformed agent id, or when both ``token`` and
    ``token_file`` are given.
    """
    env = os.environ if environ is None else environ
    if token is not None and token_file is not None:
        raise ValueError("give either token or token_file, not both")
    resolved_id = agent_id if agent_id is not None else env.get("AGENTDECK_AGENT_ID")
    if not resolved_id:
        raise ValueError("no agent id: pass one, or set AGENTDECK_AGENT_ID")
    if not _ID_PATTERN.fullmatch(resolved_id):
        raise ValueError(f"agent id {resolved_id!r} does not match [A-Za-z0-9_.-]{{1,64}}")
    # The environment's name belongs to the environment's id.
    env_name = env.get("AGENTDECK_AGENT_NAME") if resolved_id == env.get("AGENTDECK_AGENT_ID") else None
    resolved_name = name or env_name or resolved_id
    resolved_url = url or env.get("AGENTDECK_URL") or DEFAULT_URL
    if not resolved_url.startswith(("ws://", "wss://")):
        raise ValueError(f"the url must start with ws:// or wss://, not {resolved_url!r}")
    if token is None and token_file is None and (not url or url == env.get("AGENTDECK_URL")
                                                 or _is_loopback(resolved_url)):
        # The environment's token belongs to the environment's host: never sent to
        # another machine.
        token = env.get("AGENTDECK_TOKEN") or None
        if token is None and env.get("AGENTDECK_TOKEN_FILE"):
            token_file = env["AGENTDECK_TOKEN_FILE"]
    path: Optional[Path] = None
    if token is None:
        if token_file is not None:
            path = Path(token_file).expanduser()
        elif _is_loopback(resolved_url):
            path = default_token_file(env)
        else:
            raise ValueError(f"a token is needed for {resolved_url}: pass token or token_file "
                             "(the desktop app's own token is only sent to this machine)")
    return Settings(agent_id=resolved_id, name=resolved_name, url=resolved_url, token=token, token_file=path)
