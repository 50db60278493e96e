#!/usr/bin/env python3
"""Drives a command through a real pseudo-terminal, as a person at a keyboard would.

usage: pty_drive.py ACTIONS_JSON COMMAND [ARG...]

ACTIONS_JSON is a list of [verb, text] pairs, done in order:
  ["expect", REGEX]  wait (up to 90 s, for a loaded machine) until the output since the last match matches
  ["send", TEXT]     type TEXT (\x03 is Ctrl-C, \x04 Ctrl-D)
After the last action the command gets 30 s to exit. The whole output, with terminal
escapes and carriage returns removed, goes to standard output, then a line
"exit: STATUS". A timed-out expect prints "timeout: REGEX" to standard error and
exits with 2.
"""
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[>=]|[\x01\x02\x07]")


def clean(data):
    return ESCAPES.sub("", data.decode("utf-8", "replace")).replace("\r", "")


def main():
    actions = json.loads(sys.argv[1])
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))

    def controlling_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave,
                             start_new_session=True, preexec_fn=controlling_terminal)
    os.close(slave)
    output = b""
    matched = 0

    def read(timeout):
        nonlocal output
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return None
        if not chunk:
            return None
        output += chunk
        return True

    for verb, text in actions:
        if verb == "send":
            os.write(master, text.encode())
        elif verb == "expect":
            pattern = re.compile(text)
            deadline = time.time() + 90
            while True:
                found = pattern.search(clean(output), matched)
                if found:
                    matched = found.end()
                    break
                if time.time() > deadline or read(0.2) is None and child.poll() is not None:
                    sys.stdout.write(clean(output))
                    sys.stderr.write("timeout: %s\n" % text)
                    child.kill()
                    sys.exit(2)
    deadline = time.time() + 30
    while time.time() < deadline:
        if read(0.2) is None:
            break
        if child.poll() is not None and read(0.1) is False:
            break
    if child.poll() is None:
        child.kill()
    status = child.wait()
    sys.stdout.write(clean(output))
    sys.stdout.write("exit: %d\n" % status)


main()
