# SPDX-License-Identifier: GPL-3.0-or-later
"""The host killed and started again while an agent writes: every line arrives once."""

from __future__ import annotations

import threading
import time
from typing import Callable

from conftest import TOKEN, Viewer, free_port, run, stored

from agentdeck import Agent

LINES = 5000
KILL_AT = 1500


def stored_lines(url: str, agent_id: str):
    async def scenario():
        viewer = await Viewer.open(url)
        stored = await viewer.history(agent_id)
        replay = await viewer.subscribe([agent_id], since={agent_id: {"log": 0, "forum": 0}})
        await viewer.close()
        return stored, replay

    return run(scenario())


def produce_through(agent: Agent, produce: Callable[[], None], reached: threading.Event,
                    interrupt: Callable[[], None]) -> None:
    """Runs ``produce`` on a thread of its own, ``interrupt`` once it has ``reached``
    its point, and waits until the host confirmed everything, none of it dropped."""
    with agent:
        assert agent.wait_connected(10)
        producer = threading.Thread(target=produce)
        producer.start()
        assert reached.wait(30)
        generation = agent.core._generation
        interrupt()
        producer.join(60)
        assert not producer.is_alive()
        assert agent.flush(30), f"{agent.pending()} items not confirmed"
        assert agent.core._generation > generation, "the agent never reconnected"
        assert agent.dropped() == {"log": 0, "forum": 0}


def test_host_killed_mid_stream_loses_and_repeats_nothing(host):
    agent = Agent("producer", url=host.url, token=TOKEN, backoff_initial=0.05, backoff_max=0.5)
    reached_kill_point = threading.Event()
    restarted = threading.Event()

    def produce():
        for number in range(1, LINES + 1):
            agent.log(f"line {number}")
            if number % 100 == 0:
                agent.forum(f"message {number}")
            if number == KILL_AT:
                reached_kill_point.set()
            if number % 50 == 0:
                time.sleep(0.005)
            if number == KILL_AT + 1000:
                # A thousand lines written while the host is gone; the rest after its return.
                restarted.wait(30)

    def interrupt():
        host.kill()
        time.sleep(0.3)  # the agent notices and buffers
        host.start(host.port)
        restarted.set()

    produce_through(agent, produce, reached_kill_point, interrupt)

    stored, replay = stored_lines(host.url, "producer")
    texts = [line["text"] for line in stored["items"]]
    missing = sorted(set(f"line {n}" for n in range(1, LINES + 1)) - set(texts))
    assert not missing, f"{len(missing)} lines lost, first {missing[:5]}"
    repeated = len(texts) - len(set(texts))
    assert repeated == 0, f"{repeated} lines stored twice"
    assert texts == [f"line {n}" for n in range(1, LINES + 1)]
    assert [line["seq"] for line in stored["items"]] == list(range(1, LINES + 1))
    assert stored["gaps"] == []

    replayed = [line["text"] for m in replay if m["type"] == "log" for line in m["lines"]]
    assert replayed[-1000:] == [f"line {n}" for n in range(LINES - 999, LINES + 1)]
    assert not [m for m in replay if m["type"] == "gap" and m["reason"] != "evicted"]
    forum = [m for message in replay if message["type"] == "forum" for m in message["messages"]]
    assert [m["text"] for m in forum] == [f"message {n}" for n in range(100, LINES + 1, 100)]


def test_host_with_a_new_history_gets_what_it_may_not_have_seen(host_factory, proxy_factory):
    # The host stops reading, then goes away; another one comes without its state (a
    # new host.id). What the first did not acknowledge goes to the second, numbered
    # after its last, and nothing falls between the two.
    first = host_factory().start()
    proxy = proxy_factory(first.port)
    agent = Agent("producer", url=proxy.url, token=TOKEN, backoff_initial=0.05, backoff_max=0.5)
    frozen = threading.Event()
    switched = threading.Event()

    def produce():
        for number in range(1, LINES + 1):
            agent.log(f"line {number}")
            if number == KILL_AT:
                frozen.set()
            if number == KILL_AT + 500:
                switched.wait(30)
            if number % 10 == 0:
                time.sleep(0.01)

    second = host_factory()

    def interrupt():
        proxy.freeze()
        time.sleep(0.5)  # lines written that the host never reads
        first.stop()
        second.start()
        proxy.cut(second.port)
        switched.set()

    produce_through(agent, produce, frozen, interrupt)

    after = [line["text"] for line in stored(second.url, "producer")]
    first.start(free_port())
    with Agent("producer", url=first.url, token=TOKEN):  # a host knows an agent once it connects
        before = [line["text"] for line in stored(first.url, "producer")]
    assert len(set(before)) == len(before) and len(set(after)) == len(after)
    assert KILL_AT - 500 < len(before) < KILL_AT + 500
    missing = sorted(set(f"line {n}" for n in range(1, LINES + 1)) - set(before) - set(after),
                     key=lambda text: int(text.split()[1]))
    assert not missing, f"{len(missing)} lines lost, first {missing[:5]}"
    # Sent again: what the first host read after its last acknowledgement (a second's worth).
    both = set(before) & set(after)
    assert len(both) < 1500, f"{len(both)} lines sent to both hosts"
    numbers = [int(text.split()[1]) for text in after]
    assert numbers == sorted(numbers)
