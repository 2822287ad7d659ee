# SPDX-License-Identifier: GPL-3.0-or-later
"""Agents against the real host: what they publish arrives, commands and asks round-trip."""

from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import threading
import time
from collections import namedtuple

import pytest

from conftest import TIMEOUT, TOKEN, Viewer, free_port, run, stored

import agentdeck
from agentdeck import Agent, AgentDeckHandler, AsyncAgent, AuthenticationError, CommandError, Task


def test_published_items_arrive(host):
    async def scenario():
        viewer = await Viewer.open(host.url)
        await viewer.subscribe(["pub"], history=0)
        async with AsyncAgent("pub", name="Publisher", url=host.url, token=TOKEN) as agent:
            agent.log("plain line")
            agent.log("careful now", level="warn", source="pub.checks")
            agent.log("first\nsecond", level=logging.ERROR)
            agent.forum("Summary of round one", source="PUB")
            agent.status("busy", "analysing", progress=0.25,
                         tasks=[Task("1", "search", "done"), Task("2", "summarise", "running")])
            agent.metrics(cpu=12.5, rss_bytes=1024, label="not a number")
            assert await agent.flush(10)

            lines, forum, status, metrics = [], [], None, None
            while len(lines) < 3 or not forum or status is None or metrics is None:
                message = await viewer.recv()
                if message.get("agent") != "pub":
                    continue
                if message["type"] == "log":
                    lines += message["lines"]
                elif message["type"] == "forum":
                    forum += message["messages"]
                elif message["type"] == "status":
                    status = message
                elif message["type"] == "metrics":
                    metrics = message
        await viewer.close()

        assert [(line["seq"], line["text"]) for line in lines] == [
            (1, "plain line"), (2, "careful now"), (3, "first\nsecond")]
        assert lines[1]["level"] == "WARNING" and lines[1]["source"] == "pub.checks"
        assert lines[2]["level"] == "ERROR"
        assert forum[0]["text"] == "Summary of round one" and forum[0]["sender"] == "Publisher"
        assert forum[0]["source"] == "PUB" and forum[0]["seq"] == 1
        assert status["state"] == "busy" and status["text"] == "analysing" and status["progress"] == 0.25
        assert [(t["id"], t["title"], t["state"]) for t in status["tasks"]] == [
            ("1", "search", "done"), ("2", "summarise", "running")]
        assert metrics["values"] == {"cpu": 12.5, "rss_bytes": 1024}

    run(scenario())


def test_commands_round_trip(host):
    agent = Agent("cmd", url=host.url, token=TOKEN)
    paused = threading.Event()

    @agent.command("pause", help="stop taking new tasks")
    def pause(args):
        paused.set()
        return f"paused for {args.get('minutes', 'ever')}"

    @agent.command("stats")
    async def stats():
        await asyncio.sleep(0)
        return {"done": 3, "queued": 4}

    @agent.command("explode")
    def explode(args):
        raise CommandError("cannot explode today")

    @agent.command("crash")
    def crash(args):
        return 1 / 0

    async def scenario():
        viewer = await Viewer.open(host.url)
        entry = next(a for a in viewer.snapshot["agents"] if a["id"] == "cmd")
        assert {"name": "pause", "help": "stop taking new tasks"} in entry["commands"]
        result = await viewer.command("cmd", "pause", {"minutes": 5})
        assert result["ok"] is True and result["text"] == "paused for 5"
        result = await viewer.command("cmd", "stats")
        assert result["ok"] is True and result["data"] == {"done": 3, "queued": 4}
        result = await viewer.command("cmd", "explode")
        assert result["ok"] is False and result["text"] == "cannot explode today"
        result = await viewer.command("cmd", "crash")
        assert result["ok"] is False and "ZeroDivisionError" in result["text"]
        result = await viewer.command("cmd", "no-such-command")
        assert result["ok"] is False
        await viewer.close()

    with agent:
        run(scenario())
    assert paused.is_set()


def send_quit(url, agent_id):
    """A viewer sends the agent its "quit" command."""

    async def scenario():
        viewer = await Viewer.open(url)
        await viewer.send({"type": "command", "id": "q", "agent": agent_id, "name": "quit", "args": {}})
        await viewer.close()

    run(scenario())


def test_closed_from_its_own_command_handlers(host):
    # A handler that ends the bot: what it wrote before is flushed, and run_forever returns.
    for asynchronous in (False, True):
        agent = Agent(f"quitter-{int(asynchronous)}", url=host.url, token=TOKEN)

        def quit_now():
            for number in range(1, 5001):
                agent.log(f"last words {number}")
            agent.close()

        async def quit_async():
            quit_now()

        agent.add_command("quit", quit_async if asynchronous else quit_now)

        with agent:
            send_quit(host.url, agent.agent_id)
            finished = threading.Thread(target=agent.run_forever)
            finished.start()
            finished.join(15)
            assert not finished.is_alive()
        lines = stored(host.url, agent.agent_id)
        assert [line["text"] for line in lines] == [f"last words {n}" for n in range(1, 5001)]


def test_run_forever_and_close_wait_for_a_close_under_way(host):
    # The handler closes while the host is stopped, so its flush cannot finish: a
    # run_forever or a second close begun meanwhile returns only after the host has
    # everything, never in the middle of the flush.
    for asynchronous in (False, True):
        agent = Agent(f"slow-quitter-{int(asynchronous)}", url=host.url, token=TOKEN)
        go = threading.Event()

        def quit_now():
            for number in range(1, 3001):
                agent.log(f"last words {number}")
            agent.close(60)

        def quit_sync():
            go.wait(TIMEOUT)
            quit_now()

        async def quit_async():
            await asyncio.get_running_loop().run_in_executor(None, go.wait, TIMEOUT)
            quit_now()

        agent.add_command("quit", quit_async if asynchronous else quit_sync)

        with agent:
            send_quit(host.url, agent.agent_id)
            deadline = time.monotonic() + TIMEOUT
            while not agent.core._command_tasks and time.monotonic() < deadline:
                time.sleep(0.01)
            host.process.send_signal(signal.SIGSTOP)
            try:
                go.set()
                while not agent._closed and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert agent._closed
                waiters = [threading.Thread(target=agent.run_forever), threading.Thread(target=agent.close)]
                for waiter in waiters:
                    waiter.start()
                time.sleep(1.0)
                assert all(waiter.is_alive() for waiter in waiters)
            finally:
                host.process.send_signal(signal.SIGCONT)
            for waiter in waiters:
                waiter.join(TIMEOUT)
                assert not waiter.is_alive()
        lines = stored(host.url, agent.agent_id)
        assert [line["text"] for line in lines] == [f"last words {n}" for n in range(1, 3001)]


def test_ask_answered_by_viewer(host):
    with Agent("asker", url=host.url, token=TOKEN, backoff_initial=0.1) as agent:
        answers = []
        thread = threading.Thread(target=lambda: answers.append(agent.ask("Publish?", ["approve", "reject"])))
        thread.start()

        async def scenario():
            viewer = await Viewer.open(host.url)
            # An open question is in the snapshot, or comes live when it was asked later.
            asks = [a for a in viewer.snapshot.get("asks", []) if a["agent"] == "asker"]
            replay = await viewer.subscribe(["asker"], history=0)
            asks += [m for m in replay if m["type"] == "ask"]
            if not asks:
                asks = [await viewer.recv_until(lambda m: m["type"] == "ask", "the ask")]
            ask = asks[0]
            assert ask["text"] == "Publish?" and ask["choices"] == ["approve", "reject"]
            result = await viewer.command("asker", "answer", {"ask": ask["id"], "choice": "approve"})
            assert result["ok"] is True
            await viewer.close()

        run(scenario())
        thread.join(10)
        assert answers == ["approve"]
        with pytest.raises(TimeoutError):
            agent.ask("Nobody answers this", timeout=0.2)


def test_logging_handler(host):
    with Agent("logs", url=host.url, token=TOKEN) as agent:
        logger = logging.getLogger("logs.worker")
        logger.setLevel(logging.DEBUG)
        handler = AgentDeckHandler(agent)
        logger.addHandler(handler)
        try:
            logger.debug("details")
            logger.info("working on %d items", 3)
            logger.warning("slow answer")
            try:
                1 / 0
            except ZeroDivisionError:
                logger.exception("the division failed")
            logging.getLogger("websockets.client").addHandler(handler)
            logging.getLogger("websockets.client").warning("not forwarded")
        finally:
            logger.removeHandler(handler)
            logging.getLogger("websockets.client").removeHandler(handler)
        assert agent.flush(10)

    lines = stored(host.url, "logs")
    assert [(line["level"], line["source"]) for line in lines] == [
        ("DEBUG", "logs.worker"), ("INFO", "logs.worker"), ("WARNING", "logs.worker"), ("ERROR", "logs.worker")]
    assert lines[1]["text"] == "working on 3 items"
    error = lines[3]["text"].split("\n")
    assert error[0] == "the division failed"
    assert error[1] == "Traceback (most recent call last):" and error[-1].startswith("ZeroDivisionError")


_Level = namedtuple("_Level", "name no icon")
_Exception = namedtuple("_Exception", "type value traceback")


class _LoguruMessage(str):
    """A message as loguru hands it to a sink: the formatted text, and its record."""

    record: dict


def _loguru_message(text, level, number, exception=None):
    message = _LoguruMessage(f"2025-01-01 | {level} | {text}\n")
    message.record = {
        "message": text, "level": _Level(level, number, ""), "name": "bot.module", "function": "f", "line": 1,
        "time": datetime.datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc),
        "exception": exception, "extra": {},
    }
    return message


def test_loguru_sink(host):
    with Agent("loguru", url=host.url, token=TOKEN) as agent:
        agent.loguru_sink(_loguru_message("all good", "SUCCESS", 25))
        sink = agentdeck.loguru_sink(agent)
        sink(_loguru_message("a custom level", "NOTICE", 35))
        try:
            raise KeyError("missing")
        except KeyError as error:
            sink(_loguru_message("lookup failed", "ERROR", 40, _Exception(KeyError, error, error.__traceback__)))
        assert agent.flush(10)

    lines = stored(host.url, "loguru")
    assert [(line["level"], line["source"]) for line in lines] == [
        ("INFO", "bot.module"), ("WARNING", "bot.module"), ("ERROR", "bot.module")]
    assert lines[0]["text"] == "all good" and lines[0]["ts"] == 1735787045678
    assert lines[2]["text"].startswith("lookup failed\nTraceback (most recent call last):")
    assert lines[2]["text"].endswith("KeyError: 'missing'")


def test_wrong_token_is_a_clear_error(host):
    with pytest.raises(AuthenticationError, match="did not accept the token"):
        Agent("intruder", url=host.url, token="wrong-token").start()

    async def scenario():
        agent = AsyncAgent("intruder", url=host.url, token="wrong-token")
        with pytest.raises(AuthenticationError) as caught:
            await agent.start()
        assert caught.value.code == "unauthorized"
        with pytest.raises(AuthenticationError):
            await agent.flush(1)

    run(scenario())


def test_offline_buffer_overflow_reports_a_gap(host_factory):
    port = free_port()

    async def scenario():
        agent = AsyncAgent("overflow", url=f"ws://127.0.0.1:{port}/", token=TOKEN, buffer_items=50,
                           backoff_initial=0.05, backoff_max=0.2)
        await agent.start()
        assert not agent.connected
        for number in range(1, 201):
            agent.log(f"line {number}")
        assert agent.dropped() == {"log": 150, "forum": 0}
        host = host_factory().start(port)
        assert await agent.flush(15)
        await agent.close()

        viewer = await Viewer.open(host.url)
        stored = await viewer.history("overflow")
        replay = await viewer.subscribe(["overflow"], since={"overflow": {"log": 0, "forum": 0}})
        await viewer.close()
        return stored, replay

    stored, replay = run(scenario())
    assert [line["text"] for line in stored["items"]] == [f"line {n}" for n in range(151, 201)]
    assert [line["seq"] for line in stored["items"]] == list(range(151, 201))
    gaps = [(m["kind"], m["from"], m["to"], m["reason"]) for m in replay if m["type"] == "gap"]
    assert gaps == [("log", 1, 150, "agent_dropped")]
    replayed = [line["text"] for m in replay if m["type"] == "log" for line in m["lines"]]
    assert replayed == [f"line {n}" for n in range(151, 201)]


def test_written_lines_the_buffer_let_go_are_counted(host, proxy_factory):
    # The host stops reading; the agent goes on writing into the connection and its
    # buffer lets the oldest go. After the reconnect the host says what it has: the
    # lines it never got are counted in dropped() and are the gap viewers see.
    proxy = proxy_factory(host.port)

    async def scenario():
        agent = AsyncAgent("evicted", url=proxy.url, token=TOKEN, buffer_items=50, backoff_initial=0.05,
                           backoff_max=0.2)
        await agent.start()
        for number in range(1, 21):
            agent.log(f"line {number}")
        assert await agent.flush(10)
        proxy.freeze()
        for number in range(21, 221):
            agent.log(f"line {number}")
            if number % 10 == 0:
                await asyncio.sleep(0.01)  # written, not read
        proxy.cut()
        assert await agent.flush(15)
        dropped = agent.dropped()
        await agent.close()
        viewer = await Viewer.open(host.url)
        replay = await viewer.subscribe(["evicted"], since={"evicted": {"log": 0, "forum": 0}})
        await viewer.close()
        return dropped, replay

    dropped, replay = run(scenario())
    texts = [line["text"] for m in replay if m["type"] == "log" for line in m["lines"]]
    gaps = [(m["from"], m["to"]) for m in replay if m["type"] == "gap"]
    assert all(m["reason"] == "agent_dropped" for m in replay if m["type"] == "gap")
    missing = sum(to - first + 1 for first, to in gaps)
    assert dropped["log"] == missing > 0
    assert len(texts) + missing == 220
    assert texts[:20] == [f"line {n}" for n in range(1, 21)] and texts[-50:] == [f"line {n}" for n in range(171, 221)]


def test_questions_the_host_does_not_take(host):
    async def scenario():
        async with AsyncAgent("asker", url=host.url, token=TOKEN) as agent:
            # The host keeps at most 100 open questions per agent.
            waiting = [asyncio.ensure_future(agent.ask(f"question {n}")) for n in range(100)]
            with pytest.raises(agentdeck.RefusedError) as refused:
                await asyncio.wait_for(agent.ask("one too many"), 20)
            assert refused.value.code == "rate_limited"
            assert not any(task.done() for task in waiting)
            viewer = await Viewer.open(host.url)
            asks = [a["text"] for a in viewer.snapshot.get("asks", []) if a["agent"] == "asker"]
            await viewer.close()
            assert len(asks) == 100 and "one too many" not in asks
            for task in waiting:
                task.cancel()
            # Too large for the host: refused before it is sent.
            with pytest.raises(ValueError):
                await agent.ask("x" * 4000, choices=["y" * 1000] * 20)
            with pytest.raises(ValueError):
                agent.status("busy", tasks=[Task(str(n), "t" * 500) for n in range(100)])

    run(scenario())


def test_blocking_calls_after_close_fail_instead_of_hanging(host):
    agent = Agent("closing", url=host.url, token=TOKEN).start()
    agent.close()
    with pytest.raises(agentdeck.AgentDeckError):
        agent.flush(1)
    with pytest.raises(agentdeck.AgentDeckError):
        agent.ask("anyone?")
