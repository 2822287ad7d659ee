# SPDX-License-Identifier: GPL-3.0-or-later
"""``python3 -m agentdeck run``: any program's output as an agent's console."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import CLIENT_DIR, TIMEOUT, TOKEN, Viewer, run

PROGRAM = r"""
import sys, time
print("plain output", flush=True)
print("ERROR: the cache is gone", file=sys.stderr, flush=True)
sys.stdout.buffer.write("中文输出 \xff!\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
sys.stdout.write("no newline at the end")
sys.stdout.flush()
sys.exit(3)
"""


def agentdeck_run(host, *args, env_extra=None, **options):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(CLIENT_DIR)
    env.pop("AGENTDECK_URL", None)
    env.pop("AGENTDECK_TOKEN", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "agentdeck", "run", *args], env=env, capture_output=True,
                          timeout=TIMEOUT, **options)


def console(host, agent_id):
    async def scenario():
        viewer = await Viewer.open(host.url)
        lines = (await viewer.history(agent_id))["items"]
        status = next((a.get("status") for a in viewer.snapshot["agents"] if a["id"] == agent_id), None)
        await viewer.close()
        return lines, status

    return run(scenario())


def test_run_forwards_output_and_exit_code(host):
    done = agentdeck_run(host, "--id", "wrapped", "--quiet", "--", sys.executable, "-c", PROGRAM,
                         env_extra={"AGENTDECK_URL": host.url, "AGENTDECK_TOKEN": TOKEN})
    assert done.returncode == 3, done.stderr
    lines, _ = console(host, "wrapped")
    texts = [(line["text"], line.get("stream")) for line in lines]
    assert ("plain output", "stdout") in texts
    assert ("ERROR: the cache is gone", "stderr") in texts
    assert ("中文输出 \ufffd!", "stdout") in texts
    assert ("no newline at the end", "stdout") in texts
    assert lines[0]["text"].startswith("started `") and lines[-1]["text"] == "exited with code 3"
    assert lines[-1]["level"] == "ERROR"
    error = next(line for line in lines if line["text"] == "ERROR: the cache is gone")
    assert error["level"] == "ERROR"


def test_run_with_options_and_a_signal(host, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    env = dict(os.environ, PYTHONPATH=str(CLIENT_DIR))
    process = subprocess.Popen(
        [sys.executable, "-m", "agentdeck", "run", "--id", "sleeper", "--url", host.url, "--token-file",
         str(token_file), "--quiet", "--", sys.executable, "-c",
         "import time; print('sleeping', flush=True); time.sleep(60)"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        lines, _ = console(host, "sleeper") if _known(host, "sleeper") else ([], None)
        if any(line["text"] == "sleeping" for line in lines):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the program's first line never came")
    process.send_signal(signal.SIGTERM)
    assert process.wait(TIMEOUT) == 128 + signal.SIGTERM
    lines, status = console(host, "sleeper")
    assert lines[-1]["text"] == "killed by SIGTERM"
    assert status["state"] in ("crashed", "stopped"), status


def _known(host, agent_id):
    async def scenario():
        viewer = await Viewer.open(host.url)
        await viewer.close()
        return any(a["id"] == agent_id for a in viewer.snapshot["agents"])

    return run(scenario())


def test_run_refusals_are_clear(host):
    missing = agentdeck_run(host, "--id", "missing", "--url", host.url, "--",
                            "/nonexistent/program", env_extra={"AGENTDECK_TOKEN": TOKEN})
    assert missing.returncode == 127
    assert b"cannot start `/nonexistent/program`" in missing.stderr

    wrong = agentdeck_run(host, "--id", "intruder", "--url", host.url, "--", "true",
                          env_extra={"AGENTDECK_TOKEN": "wrong-token"})
    assert wrong.returncode == 2
    assert b"token" in wrong.stderr

    nothing = agentdeck_run(host, "--id", "idle")
    assert nothing.returncode == 2 and b"no program to run" in nothing.stderr
