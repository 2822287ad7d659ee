# SPDX-License-Identifier: GPL-3.0-or-later
"""A multi-agent pipeline: three agents in one asyncio program, talking in the forum.

A researcher gathers findings, an analyst weighs them, a moderator sums up in the
forum and asks a person (in AgentDeck's console) whether to publish. Each agent
has its own console, status and plan.

    python3 pipeline.py                       # the desktop app's host on this machine
    python3 pipeline.py --topic "solid-state batteries" --prefix demo-
"""

import argparse
import asyncio

from agentdeck import AsyncAgent, Task

FINDINGS = ["three suppliers announced pilot lines", "costs fell 12 % in a year",
            "two recalls were traced to cell defects"]


async def researcher(agent: AsyncAgent, topic: str, found: asyncio.Queue) -> None:
    plan = [Task(str(n), f"search source {n}") for n in range(1, len(FINDINGS) + 1)]
    for number, finding in enumerate(FINDINGS, 1):
        plan[number - 1] = Task(str(number), plan[number - 1].title, "running")
        agent.status("busy", f"searching {topic}", progress=(number - 1) / len(FINDINGS), tasks=plan)
        agent.log(f"searching source {number} for {topic!r}")
        await asyncio.sleep(0.5)
        agent.log(f"found: {finding}", level="INFO", source="researcher.search")
        agent.forum(f"**Finding {number}**: {finding}.")
        plan[number - 1] = Task(str(number), plan[number - 1].title, "done")
        await found.put(finding)
    agent.status("idle", "all sources read", progress=1.0, tasks=plan)
    await found.put(None)


async def analyst(agent: AsyncAgent, found: asyncio.Queue, weighed: asyncio.Queue) -> None:
    agent.status("idle", "waiting for findings")
    while (finding := await found.get()) is not None:
        agent.status("busy", f"weighing: {finding}")
        await asyncio.sleep(0.3)
        risky = "recall" in finding
        if risky:
            agent.log(f"a risk: {finding}", level="WARNING")
        agent.forum(f"{'A risk' if risky else 'Supports the case'}: {finding}.")
        await weighed.put((finding, risky))
    agent.status("idle", "done")
    await weighed.put(None)


async def moderator(agent: AsyncAgent, topic: str, weighed: asyncio.Queue) -> str:
    points = []
    while (point := await weighed.get()) is not None:
        points.append(point)
    risks = sum(1 for _, risky in points if risky)
    summary = "\n".join(f"- {finding}{' (risk)' if risky else ''}" for finding, risky in points)
    agent.forum(f"## Summary: {topic}\n\n{summary}\n\n{len(points)} findings, {risks} risk(s).", role="host")
    agent.status("busy", "waiting for a person", tasks=[Task("sum", "sum up", "done"),
                                                         Task("ask", "ask whether to publish", "running")])
    choice = await agent.ask(f"Publish the report on {topic}?", ["publish", "hold"])
    agent.log(f"a person chose: {choice}", level="INFO")
    agent.forum("The report is published." if choice == "publish" else "The report is on hold.", role="host")
    agent.status("idle", f"report {'published' if choice == 'publish' else 'held'}", progress=1.0)
    return choice


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="battery supply chains")
    parser.add_argument("--prefix", default="", help="put before each agent id")
    options = parser.parse_args()

    found: asyncio.Queue = asyncio.Queue()
    weighed: asyncio.Queue = asyncio.Queue()
    async with AsyncAgent(options.prefix + "researcher", name="Researcher") as research, \
            AsyncAgent(options.prefix + "analyst", name="Analyst") as analysis, \
            AsyncAgent(options.prefix + "moderator", name="Moderator") as moderation:
        _, _, choice = await asyncio.gather(researcher(research, options.topic, found),
                                            analyst(analysis, found, weighed),
                                            moderator(moderation, options.topic, weighed))
    print(f"the report: {choice}")


if __name__ == "__main__":
    asyncio.run(main())
