# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes numbered lines to a log file the way bots do, and meanwhile rotates,
truncates or deletes it, for the followed-file tests.

usage: log_writer.py PATH COUNT [EVENT@LINE ...]
  rotate@N    rename PATH to PATH.1 before line N (the next write creates PATH)
  truncate@N  wait until the reader has had time, then truncate PATH before line N
  delete@N    delete PATH before line N (the next write creates it again)
  held@N      from line N on keep the file open between writes, as logging handlers do
  reopen@N    close the file kept open and open PATH again (after a rotation)
Lines are "line <n> <padding>" with a few non-ASCII characters; a short pause
every 50 lines keeps the writer and the reader interleaved.
"""
import os
import sys
import time


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    events = {}
    for spec in sys.argv[3:]:
        name, at = spec.split("@")
        events.setdefault(int(at), []).append(name)
    held = None
    for n in range(1, count + 1):
        for event in events.get(n, []):
            if event == "rotate":
                os.replace(path, path + ".1")
            elif event == "truncate":
                time.sleep(1.0)
                with open(path, "r+b") as f:
                    f.truncate(0)
            elif event == "delete":
                os.unlink(path)
            elif event == "held":
                held = open(path, "ab")
            elif event == "reopen":
                held.close()
                held = open(path, "ab")
        data = ("line %d 日志 %s\n" % (n, "x" * (n % 37))).encode("utf-8")
        if held:
            held.write(data)
            held.flush()
        else:
            with open(path, "ab") as f:
                f.write(data)
        if n % 50 == 0:
            time.sleep(0.01)
    if held:
        held.close()


if __name__ == "__main__":
    main()
