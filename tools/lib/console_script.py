"""--console-script FILE of tools/run-bochs and tools/run-qemu: the runner plays
a send/expect script against COM1 as a console client (vigilconsole.Console,
on pexpect), through one end of a socketpair the COM1 proxy serves.

One command a line:
    send TEXT               TEXT + CR (TEXT: the rest of the line, as is)
    sendraw TEXT            TEXT with Python backslash escapes (\\r \\n \\x00 ...)
                            decoded, nothing appended
    expect REGEX [TIMEOUT]  wait (default 30 s) for COM1 output after the
                            previous expect's match matching REGEX
                            (vigilconsole.Console.expect: re.M, '^'/'$' at
                            line ends). A trailing number is the timeout;
    expect /REGEX/ [TIMEOUT]  the same, REGEX taken as is between the slashes
                            (for a regex ending in a number).
    sleep SECONDS
    # comment, blank lines
A failed expect, or the run ending before the script, fails the run.
"""

import codecs
import re
import socket
import threading
import time

import vigilconsole
from judge import UsageError

SCRIPT_EXPECT_TIMEOUT = 30.0


def _parse_expect(arg, where):
    regex, timeout, implicit = arg.strip(), SCRIPT_EXPECT_TIMEOUT, False
    slashed = re.match(r"^/(.*)/(?:\s+(\d+(?:\.\d*)?))?$", regex)
    if slashed:
        regex = slashed.group(1)
        if slashed.group(2):
            timeout = float(slashed.group(2))
    else:
        head, _, last = regex.rpartition(" ")
        if head.strip() and re.match(r"^\d+(\.\d*)?$", last):
            regex, timeout, implicit = head.rstrip(), float(last), True
    if not regex:
        raise UsageError("%s: expect needs a regex" % where)
    try:
        re.compile(regex, re.M)
    except re.error as e:
        raise UsageError("%s: bad regex '%s': %s" % (where, regex, e))
    return regex, timeout, implicit


def parse(path):
    """FILE -> [(line number, command, argument, text as written)]."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeError) as e:
        raise UsageError("--console-script: cannot read %s: %s" % (path, e))
    steps = []
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cmd, _, arg = line.lstrip().partition(" ")
        where = "%s:%d" % (path, n)
        if cmd == "send":
            steps.append((n, "send", arg.encode("utf-8") + b"\r", arg))
        elif cmd == "sendraw":
            try:
                data = codecs.escape_decode(arg.encode("utf-8"))[0]
            except ValueError as e:
                raise UsageError("%s: sendraw: bad escape: %s" % (where, e))
            steps.append((n, "send", data, arg))
        elif cmd == "expect":
            steps.append((n, "expect", _parse_expect(arg, where), arg))
        elif cmd == "sleep":
            try:
                secs = float(arg)
            except ValueError:
                raise UsageError("%s: sleep needs seconds, not '%s'" % (where, arg))
            steps.append((n, "sleep", secs, arg))
        else:
            raise UsageError("%s: unknown command '%s' (send, sendraw, expect, sleep, #)" % (where, cmd))
    return steps


class ScriptPlayer:
    """Plays the steps in a thread on a Console over a socketpair; the other
    end (proxy_end) is the COM1 proxy's client for the whole run."""

    def __init__(self, path):
        self.path = path
        self.steps = parse(path)
        self.proxy_end, mine = socket.socketpair()
        self.console = vigilconsole.Console(mine, "console script %s" % path)
        self.step = None          # the step being played
        self.failure = None
        self.done = False
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._play, name="console-script", daemon=True)
        self.thread.start()

    def _where(self, n):
        return "console script %s:%d" % (self.path, n)

    def _play(self):
        con = self.console
        try:
            for n, cmd, arg, text in self.steps:
                self.step = (n, cmd, text)
                if cmd == "send":
                    if con.closed:
                        self.failure = "%s: the run ended before 'send %s'" % (self._where(n), text)
                        return
                    con.send_raw(arg)
                elif cmd == "sleep":
                    time.sleep(arg)  # output meanwhile stays unread for the next expect
                else:
                    self._expect(n, arg, text)
                    if self.failure:
                        return
            self.step = None
            self.done = True
        except vigilconsole.ConsoleClosed as e:
            self.failure = "%s: %s" % (self._where(self.step[0]), e)
        finally:
            if self.failure is None and not self.done:
                self.failure = "%s: the script stopped" % self.path

    def _expect(self, n, arg, text):
        regex, timeout, implicit = arg
        hint = (" (the line's trailing number is the timeout: write /REGEX/ "
                "if it belongs to the regex)" if implicit else "")
        try:
            self.console.expect(regex, timeout)
        except vigilconsole.ConsoleClosed:
            self.failure = ("%s: expect '%s': COM1 closed (the run ended) before matching output "
                            "arrived%s" % (self._where(n), text, hint))
        except vigilconsole.ConsoleTimeout as e:
            self.failure = "%s: expect '%s': %s%s" % (self._where(n), text, e, hint)

    def finish(self, wait):
        """After the run: the verdict (None or a failure message)."""
        if self.thread is not None:
            self.thread.join(wait)
        if self.failure:
            return self.failure
        if not self.done:
            step = self.step
            return ("console script %s:%s: still at '%s %s' when the run ended"
                    % (self.path, step[0] if step else "?", step[1] if step else "", step[2] if step else ""))
        return None

    def close(self):
        self.console.close()
        try:
            self.proxy_end.close()
        except OSError:
            pass
