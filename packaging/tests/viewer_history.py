#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prints the console lines an AgentDeck host holds for one agent, as a viewer.

Usage: viewer_history.py URL TOKEN_FILE AGENT_ID
Exits 1 when the host does not answer or does not know the agent.
"""

import asyncio
import json
import pathlib
import sys

import websockets


async def main(url: str, token_file: str, agent: str) -> int:
    token = pathlib.Path(token_file).read_text().strip()
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "role": "viewer", "token": token}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if welcome.get("type") != "welcome":
            print(f"no welcome: {welcome}", file=sys.stderr)
            return 1
        await ws.send(json.dumps({"type": "history", "id": "h", "agent": agent, "limit": 5000}))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if reply.get("type") == "history" and reply.get("id") == "h":
                for line in reply["lines"]:
                    print(f'{line["seq"]} {line.get("stream", "stdout")} {line["text"]}')
                return 0
            if reply.get("type") == "error":
                print(f"error: {reply}", file=sys.stderr)
                return 1


sys.exit(asyncio.run(main(*sys.argv[1:4])))
