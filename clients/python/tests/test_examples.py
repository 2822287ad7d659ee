# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's bot and the examples, run as a user runs them, answered from a viewer."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import CLIENT_DIR, TIMEOUT, TOKEN, Viewer, run, stored

README = CLIENT_DIR.parent.parent / "README.md"
EXAMPLES = CLIENT_DIR / "examples"


def readme_bot() -> str:
    """The Python block of the README's "Connect a bot" section."""
    section = README.read_text(encoding="utf-8").split("## Connect a bot", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the section should show one Python bot"
    return blocks[0]


def start(args, tmp_path: Path, host, *, token_in_config: bool = False) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(CLIENT_DIR), AGENTDECK_URL=host.url)
    env.pop("AGENTDECK_TOKEN", None)
    if token_in_config:
        # Where the desktop app keeps its host's token: the bot finds it without being told.
        config = tmp_path / "config"
        (config / "agentdeck").mkdir(parents=True)
        (config / "agentdeck" / "token").write_text(TOKEN + "\n")
        env["XDG_CONFIG_HOME"] = str(config)
    else:
        env["AGENTDECK_TOKEN"] = TOKEN
    return subprocess.Popen([sys.executable, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


async def open_ask(url: str, agent_id: str):
    """The agent's open question, from the snapshot of a fresh viewer, once it is asked."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        viewer = await Viewer.open(url)
        await viewer.close()
        asks = [a for a in viewer.snapshot.get("asks", []) if a["agent"] == agent_id]
        if asks:
            return asks[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{agent_id} asked nothing")


def finish(process: subprocess.Popen, *, interrupt: bool = False) -> subprocess.CompletedProcess:
    if interrupt:
        process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_readme_bot(host, tmp_path):
    script = tmp_path / "bot.py"
    script.write_text(readme_bot())
    bot = start([str(script)], tmp_path, host, token_in_config=True)

    async def scenario():
        ask = await open_ask(host.url, "my-bot")
        viewer = await Viewer.open(host.url)
        assert ask["text"] == "Publish the report?" and ask["choices"] == ["approve", "reject"]
        assert (await viewer.command("my-bot", "answer", {"ask": ask["id"], "choice": "approve"}))["ok"]
        lines = []
        deadline = time.monotonic() + TIMEOUT
        while "published" not in [line["text"] for line in lines]:
            assert time.monotonic() < deadline, f"the bot did not go on after the answer: {lines}"
            lines = (await viewer.history("my-bot"))["items"]
            await asyncio.sleep(0.05)
        result = await viewer.command("my-bot", "pause")
        forum = (await viewer.history("my-bot", "forum"))["items"]
        await viewer.close()
        fresh = await Viewer.open(host.url)
        entry = next(a for a in fresh.snapshot["agents"] if a["id"] == "my-bot")
        await fresh.close()
        return lines, result, forum, entry

    try:
        lines, result, forum, entry = run(scenario())
    finally:
        done = finish(bot, interrupt=True)
    assert [(line["text"], line["level"]) for line in lines] == [("starting up", "INFO"), ("published", "INFO")]
    assert result["ok"] is True and result["text"] == "paused"
    assert [(m["text"], m["sender"]) for m in forum] == [("Three sources agree on the figures.", "My Bot")]
    assert entry["name"] == "My Bot" and entry["status"]["state"] == "busy"
    assert [(t["title"], t["state"]) for t in entry["status"]["tasks"]] == [
        ("collect sources", "done"), ("write the report", "running")]
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr  # Ctrl-C ends it quietly


def test_the_chat_bot_example(host, tmp_path):
    bot = start([str(EXAMPLES / "chat_bot.py"), "--delay", "0.05"], tmp_path, host)

    async def scenario():
        viewer = await Viewer.open(host.url)
        await viewer.subscribe(["chat-bot"], history=0)
        await viewer.recv_until(lambda m: m["type"] == "log" and any(
            line["text"] == "answered question 3" for line in m["lines"]), "three answers")
        said = await viewer.command("chat-bot", "say", {"text": "hello"})
        refused = await viewer.command("chat-bot", "say")
        paused = await viewer.command("chat-bot", "pause")
        stats = await viewer.command("chat-bot", "stats")
        await viewer.close()
        return said, refused, paused, stats

    try:
        said, refused, paused, stats = run(scenario())
    finally:
        finish(bot, interrupt=True)
    assert said["ok"] is True and said["text"] == "said 'hello'"
    assert refused["ok"] is False and refused["text"] == "say needs text=..."
    assert paused["ok"] is True
    assert stats["ok"] is True and stats["data"]["paused"] is True and stats["data"]["answered"] >= 3


def test_the_pipeline_example(host, tmp_path):
    pipeline = start([str(EXAMPLES / "pipeline.py"), "--prefix", "t-", "--topic", "test topic"], tmp_path, host)

    async def scenario():
        ask = await open_ask(host.url, "t-moderator")
        viewer = await Viewer.open(host.url)
        assert ask["text"] == "Publish the report on test topic?"
        assert (await viewer.command("t-moderator", "answer", {"ask": ask["id"], "choice": "publish"}))["ok"]
        await viewer.close()

    try:
        run(scenario())
    finally:
        done = finish(pipeline)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == b"the report: publish"

    found = {agent: stored(host.url, agent, "forum") for agent in ("t-researcher", "t-analyst", "t-moderator")}
    assert len(found["t-researcher"]) == 3 and len(found["t-analyst"]) == 3
    summary, decision = found["t-moderator"]
    assert summary["role"] == "host" and summary["text"].startswith("## Summary: test topic")
    assert decision["text"] == "The report is published."
