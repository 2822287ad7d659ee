# SPDX-License-Identifier: GPL-3.0-or-later
"""A chat bot that reports to AgentDeck: its logs, a plan, metrics and commands.

It answers made-up questions from a queue. Its standard ``logging`` goes to the
agent's console; the console's command line can ``pause`` and ``resume`` it,
``say`` something through it (``say text=hello``) and ask for ``stats``.

    python3 chat_bot.py                 # the desktop app's host on this machine
    AGENTDECK_URL=ws://bots:7700/ AGENTDECK_TOKEN=... python3 chat_bot.py
    python3 chat_bot.py --questions 5   # stop after five questions
"""

import argparse
import logging
import random
import threading
import time

import agentdeck

QUESTIONS = [
    "What is the weather like in Hangzhou?",
    "Summarise today's news about batteries.",
    "How do I reset my password?",
    "Translate 'good morning' into French.",
    "Which port does AgentDeck listen on?",
]

log = logging.getLogger("chat_bot")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", default="chat-bot", help="the agent id (default chat-bot)")
    parser.add_argument("--questions", type=int, default=0, help="stop after this many (default: never)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per answer (default 1)")
    options = parser.parse_args()

    agent = agentdeck.Agent(options.id, name="Chat Bot")
    awake = threading.Event()
    awake.set()
    answered = 0

    @agent.command("pause", help="stop answering until resume")
    def pause():
        awake.clear()
        agent.status("idle", "paused")
        return "paused"

    @agent.command("resume", help="answer questions again")
    def resume():
        awake.set()
        return "resumed"

    @agent.command("say", help="say text=... in the chat")
    def say(args):
        text = args.get("text")
        if not text:
            raise agentdeck.CommandError("say needs text=...")
        log.info("bot says: %s", text)
        return f"said {text!r}"

    @agent.command("stats", help="how many questions were answered")
    def stats():
        return {"answered": answered, "paused": not awake.is_set()}

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with agent:
        logging.getLogger().addHandler(agentdeck.AgentDeckHandler(agent))
        log.info("chat bot started")
        started = time.monotonic()
        while options.questions == 0 or answered < options.questions:
            awake.wait()
            question = random.choice(QUESTIONS)
            plan = [agentdeck.Task("read", "read the question", "done"),
                    agentdeck.Task("think", "draft an answer", "running"),
                    agentdeck.Task("send", "send the answer")]
            agent.status("busy", question, progress=0.5, tasks=plan)
            log.info("question: %s", question)
            time.sleep(options.delay)
            if random.random() < 0.1:
                log.warning("the model was slow to answer (%.1f s)", options.delay * 3)
            answered += 1
            log.info("answered question %d", answered)
            agent.status("idle", f"{answered} answered", progress=1.0)
            agent.metrics(answered=answered, answers_per_min=60 * answered / (time.monotonic() - started))
        log.info("done after %d questions", answered)


if __name__ == "__main__":
    main()
