# SPDX-License-Identifier: GPL-3.0-or-later
"""A launched bot that tries to reach past its own agent id, and says what happened.

With the AGENTDECK_TOKEN it was given, it tries to connect as a viewer, to speak
as another agent (PROBE_OTHER_ID), and, connected as itself, to command that
other agent. Each attempt prints one line "PROBE <what>: <error code> <close code>"
to stdout, which the host makes its console. It writes its token to the file
PROBE_TOKEN_OUT so that a test can try the token after the agent is removed, then
stays connected as itself until stdin closes.
"""
import asyncio
import json
import os
import sys

import websockets

URL = os.environ["AGENTDECK_URL"]
TOKEN = os.environ["AGENTDECK_TOKEN"]
OWN_ID = os.environ["AGENTDECK_AGENT_ID"]
OTHER_ID = os.environ["PROBE_OTHER_ID"]


async def attempt(hello):
    """Sends hello; returns (error code or "welcome", close code or 0)."""
    async with websockets.connect(URL) as ws:
        await ws.send(json.dumps(hello))
        reply = json.loads(await ws.recv())
        if reply["type"] == "welcome":
            return "welcome", 0
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            return reply.get("code"), closed.code
        return reply.get("code"), 0


async def main():
    with open(os.environ["PROBE_TOKEN_OUT"], "w") as out:
        out.write(TOKEN)
    code, close = await attempt({"type": "hello", "protocol": 1, "role": "viewer", "token": TOKEN})
    print(f"PROBE viewer: {code} {close}", flush=True)
    code, close = await attempt({"type": "hello", "protocol": 1, "role": "agent", "token": TOKEN,
                                 "agent": {"id": OTHER_ID}})
    print(f"PROBE other id: {code} {close}", flush=True)
    async with websockets.connect(URL) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "role": "agent", "token": TOKEN,
                                  "agent": {"id": OWN_ID}}))
        welcome = json.loads(await ws.recv())
        print(f"PROBE own id: {welcome['type']} 0", flush=True)
        await ws.send(json.dumps({"type": "command", "id": "c1", "agent": OTHER_ID, "name": "shutdown"}))
        reply = json.loads(await ws.recv())
        print(f"PROBE command: {reply.get('code')} 0", flush=True)
        await ws.send(json.dumps({"type": "subscribe", "agents": ["*"]}))
        reply = json.loads(await ws.recv())
        print(f"PROBE subscribe: {reply.get('code')} 0", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
