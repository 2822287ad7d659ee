# SPDX-License-Identifier: GPL-3.0-or-later
"""A bot the host launches that also connects back as an agent.

It reads AGENTDECK_URL, AGENTDECK_TOKEN and AGENTDECK_AGENT_ID from its
environment, publishes a forum message (BOT_GREETING) and a log line, answers
the command "ping" with "pong", and exits when "quit" arrives on stdin.
"""
import asyncio
import json
import os
import sys

import websockets


async def main():
    url = os.environ["AGENTDECK_URL"]
    token = os.environ["AGENTDECK_TOKEN"]
    agent_id = os.environ["AGENTDECK_AGENT_ID"]
    print(f"connecting to {url}", flush=True)
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({
            "type": "hello", "protocol": 1, "role": "agent", "token": token,
            "agent": {"id": agent_id, "name": "name from hello",
                      "commands": [{"name": "ping", "help": "answers pong"}]},
        }))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        await ws.send(json.dumps({"type": "forum", "messages": [
            {"text": os.environ.get("BOT_GREETING", "hello")}]}))
        await ws.send(json.dumps({"type": "log", "lines": [
            {"text": "published over the protocol", "source": "bot"}]}))
        # Its own numbers go on from resume_from, whatever the child printed meanwhile.
        seq = welcome["resume_from"]["log"] + 1
        await ws.send(json.dumps({"type": "log", "lines": [
            {"seq": seq, "text": "numbered by the bot", "source": "bot"}]}))

        async def answer():
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "command":
                    await ws.send(json.dumps({"type": "result", "id": message["id"], "ok": True,
                                              "text": "pong" if message["name"] == "ping" else "unknown"}))

        answering = asyncio.create_task(answer())
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "quit":
                break
        print("bye", flush=True)
        answering.cancel()


asyncio.run(main())
