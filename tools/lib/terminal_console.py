#!/usr/bin/env python3
"""Connect this terminal to vigil's console socket (unix:PATH or tcp:HOST:PORT).

Raw terminal: every key goes to vigil as typed; Ctrl-] leaves. Waits up to
60 s for the socket to appear (the emulator may still be starting).
"""
import os
import select
import socket
import sys
import termios
import time
import tty

QUIT = b"\x1d"  # Ctrl-]


def connect(spec, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if spec.startswith("unix:"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(spec[5:])
            elif spec.startswith("tcp:"):
                host, _, port = spec[4:].rpartition(":")
                s = socket.create_connection((host or "127.0.0.1", int(port)))
            else:
                sys.exit("terminal_console: console must be unix:PATH or tcp:HOST:PORT, not %r" % spec)
            return s
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("terminal_console: no console at %s after %d s" % (spec, timeout))
            time.sleep(0.2)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: terminal_console.py unix:PATH|tcp:HOST:PORT")
    s = connect(sys.argv[1])
    print("[connected to vigil's console; Ctrl-] leaves]\r", file=sys.stderr)
    stdin = sys.stdin.fileno()
    saved = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    try:
        if saved:
            tty.setraw(stdin)
        while True:
            ready, _, _ = select.select([s, stdin], [], [])
            if s in ready:
                data = s.recv(4096)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data.replace(b"\n", b"\r\n") if saved else data)
            if stdin in ready:
                data = os.read(stdin, 1024)
                if not data or QUIT in data:
                    break
                s.sendall(data)
    finally:
        if saved:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        s.close()
    print("\r\n[left vigil's console]", file=sys.stderr)


if __name__ == "__main__":
    main()
