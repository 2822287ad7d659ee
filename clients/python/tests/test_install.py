# SPDX-License-Identifier: GPL-3.0-or-later
"""The client installs with pip from its folder, as the README says, and works from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import CLIENT_DIR, TOKEN, stored


def test_pip_install_into_a_venv(host, tmp_path):
    venv = tmp_path / "venv"
    # websockets and setuptools come from the system (Debian's python3-websockets and
    # python3-setuptools): no network is needed.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # A copy, as pip builds in the folder it is given.
    source = tmp_path / "clients-python"
    shutil.copytree(CLIENT_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation", str(source)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    bot = tmp_path / "bot.py"
    bot.write_text(
        "import agentdeck, logging, sys\n"
        "assert agentdeck.__file__.startswith(sys.prefix), agentdeck.__file__\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "with agentdeck.Agent('installed', name='Installed Bot') as agent:\n"
        "    logging.getLogger().addHandler(agentdeck.AgentDeckHandler(agent))\n"
        "    logging.getLogger('bot').info('hello from the venv')\n"
        "    agent.forum('ready')\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(AGENTDECK_URL=host.url, AGENTDECK_TOKEN=TOKEN)
    done = subprocess.run([str(python), str(bot)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr

    tool = subprocess.run([str(python), "-m", "agentdeck", "run", "--id", "installed-run", "--quiet", "--",
                           "echo", "run from the venv"], cwd=tmp_path, env=env, capture_output=True, timeout=60)
    assert tool.returncode == 0, tool.stderr

    bot_lines = stored(host.url, "installed")
    forum = stored(host.url, "installed", "forum")
    run_lines = stored(host.url, "installed-run")
    assert [(line["text"], line["level"], line["source"]) for line in bot_lines] == [
        ("hello from the venv", "INFO", "bot")]
    assert [(m["text"], m["sender"]) for m in forum] == [("ready", "Installed Bot")]
    assert "run from the venv" in [line["text"] for line in run_lines]
