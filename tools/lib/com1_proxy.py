"""COM1 as a socket between the emulator and the runner (tools/run-bochs and
tools/run-qemu --console SPEC, --console-script FILE).

The emulator connects to a socket the runner listens on. A thread copies every
COM1 byte to the serial log (so the run is judged as without a console), to the
client and, while no client is connected, into a backlog of the last 64 KiB the
next client receives first; client input goes to COM1 unchanged. Clients come
from a listening socket (--console unix:PATH | tcp:PORT, one at a time) or are
handed over at the start (the console script's end of a socketpair). This is a
byte proxy, not a console session: sessions (expect/send) are vigilconsole.py's,
on pexpect.
"""

import atexit
import os
import select
import socket
import stat
import sys
import threading
import time

from judge import UsageError

CONSOLE_BACKLOG = 64 * 1024          # COM1 output kept for the next client
CONSOLE_CLIENT_MAX = 4 * 1024 * 1024  # unsent output before a slow client is dropped
CONSOLE_INPUT_MAX = 64 * 1024         # client input not yet taken by the emulator
CONSOLE_FINISH_WAIT = 3.0             # s to wait for the emulator's last COM1 bytes


def parse_console_spec(spec):
    """'unix:PATH' -> ("unix", abspath); 'tcp:PORT' -> ("tcp", port)."""
    kind, sep, rest = spec.partition(":")
    if kind == "unix" and sep and rest:
        path = os.path.abspath(rest)
        if len(path.encode()) > 107:
            raise UsageError("--console: unix socket path too long (max 107 bytes): %s" % path)
        if not os.path.isdir(os.path.dirname(path)):
            raise UsageError("--console: no directory for the socket: %s" % path)
        return ("unix", path)
    if kind == "tcp" and sep:
        try:
            port = int(rest, 10)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise UsageError("--console: bad TCP port '%s' (0-65535; 0 = any free port)" % rest)
        return ("tcp", port)
    raise UsageError("--console: SPEC is unix:PATH or tcp:PORT, not '%s'" % spec)


def _recv(sock, size):
    """Bytes from a non-blocking socket: data, None (nothing yet) or b"" (closed)."""
    try:
        return sock.recv(size)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def _send_some(sock, pending):
    """Sends what a non-blocking socket takes of the bytearray PENDING and
    removes it from there; False if the socket is closed."""
    try:
        del pending[:sock.send(pending)]
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        return False
    return True


def _close_quietly(sock):
    try:
        sock.close()
    except OSError:
        pass


class ConsoleProxy:
    """Owns the runner's end of the emulator's COM1 socket (the emulator
    connects to it as a client) and, with --console, the listening socket
    for clients. A thread copies COM1 output to the serial log, to the client
    (or, while no client is connected, into a backlog of the last 64 KiB
    that the next client receives first); client input goes to COM1
    unchanged. One client at a time: a second one is told 'busy' and
    closed."""

    def __init__(self, prog, spec, serial_path, quiet):
        self.prog = prog
        self.spec = spec
        self.quiet = quiet
        self.serial_path = serial_path
        self.emu_listener = None
        self.emu = None
        self.emu_connected = False
        self.emu_eof = False
        self.listener = None
        self.unix_path = None     # client socket file we created (removed at exit)
        self.unix_ino = None
        self.com1_unix = None     # emulator socket file
        self.client = None
        self.to_client = bytearray()
        self.backlog = bytearray()
        self.to_emu = bytearray()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.closing = False
        self.closed = False
        self.thread = None
        self.failures = []
        self.log_fd = None
        atexit.register(self.close)

    # -- setup --------------------------------------------------------------
    def listen_emulator_tcp(self):
        if self.emu_listener is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))  # the kernel picks a free port, held until accepted
            s.listen(1)
            self.emu_listener = s
        return self.emu_listener.getsockname()[1]

    def listen_emulator_unix(self, path):
        if self.emu_listener is None:
            if len(path.encode()) > 107:
                raise UsageError("temp dir path too long for a unix socket: %s" % path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            self.emu_listener = s
            self.com1_unix = path
        return self.com1_unix

    def _listen_clients(self):
        kind, where = self.spec
        if kind == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", where))
            except OSError as e:
                s.close()
                raise UsageError("--console: cannot listen on 127.0.0.1:%d: %s" % (where, e.strerror))
            s.listen(4)
            name = "tcp:127.0.0.1:%d" % s.getsockname()[1]
        else:
            path = where
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None:
                if not stat.S_ISSOCK(st.st_mode):
                    raise UsageError("--console: %s exists and is not a socket" % path)
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    probe.connect(path)
                    live = True
                except OSError:
                    live = False
                finally:
                    probe.close()
                if live:
                    raise UsageError("--console: %s is in use by another program" % path)
                os.unlink(path)  # stale socket of an earlier run
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(path)
            except OSError as e:
                s.close()
                raise UsageError("--console: cannot bind %s: %s" % (path, e.strerror))
            self.unix_path = path
            self.unix_ino = os.lstat(path).st_ino
            s.listen(4)
            name = "unix:" + path
        s.setblocking(False)
        self.listener = s
        self.name = name

    def start(self, client=None):
        """Before the emulator starts: listen for clients (announcing it),
        or take CLIENT (a connected socket: the console script's end) as the
        one client for the whole run; start the proxy thread."""
        self.log_fd = os.open(self.serial_path, os.O_WRONLY | os.O_APPEND)
        if self.spec is not None:
            self._listen_clients()
            print("%s: console on %s" % (self.prog, self.name), file=sys.stderr, flush=True)
        if client is not None:
            client.setblocking(False)
            self.client = client
        self.emu_listener.setblocking(False)
        self.thread = threading.Thread(target=self._loop, name="console-proxy", daemon=True)
        self.thread.start()

    def _note(self, text):
        if not self.quiet:
            print("%s: console: %s" % (self.prog, text), file=sys.stderr, flush=True)

    def _wake(self):
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    # -- the proxy thread -----------------------------------------------------
    def _drop_client(self, why=None):
        if self.client is not None:
            _close_quietly(self.client)
            self.client = None
            self.to_client = bytearray()
            if self.spec is not None:  # (the script's end is no client to report)
                self._note("client disconnected" + (" (%s)" % why if why else ""))

    def _emu_closed(self):
        if self.emu is not None:
            _close_quietly(self.emu)
        self.emu = None
        self.emu_eof = True
        if self.spec is None and not self.to_client:
            self._drop_client()  # the script's end: it sees EOF as the run ending
        # (with COM1's last bytes still on their way to the script: after they are
        # sent, in _loop, so the script can match them before it sees the end)

    def _from_emu(self, data):
        os.write(self.log_fd, data)
        if self.client is not None:
            self.to_client += data
            if len(self.to_client) > CONSOLE_CLIENT_MAX:
                self._drop_client("it does not read; %d bytes pending" % len(self.to_client))
        elif self.spec is not None:
            self.backlog += data
            if len(self.backlog) > CONSOLE_BACKLOG:
                del self.backlog[:len(self.backlog) - CONSOLE_BACKLOG]

    def _accept_client(self):
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if self.client is not None:
            try:
                conn.setblocking(False)
                conn.send(("%s: console busy: another client is connected\r\n" % self.prog).encode())
            except OSError:
                pass
            conn.close()
            self._note("refused a second client")
            return
        conn.setblocking(False)
        self.client = conn
        self.to_client = self.backlog
        self.backlog = bytearray()
        self._note("client connected")

    def _loop(self):
        while not self.closing:
            r = [self.wake_r]
            w = []
            if self.emu_listener is not None and not self.emu_connected:
                r.append(self.emu_listener)
            with self.lock:
                pending_in = len(self.to_emu)
            if self.emu is not None:
                r.append(self.emu)
                if pending_in:
                    w.append(self.emu)
            if self.listener is not None:
                r.append(self.listener)
            if self.client is not None:
                # client input only once COM1 is there and can take it
                if self.emu is not None and pending_in < CONSOLE_INPUT_MAX:
                    r.append(self.client)
                elif self.emu_eof:
                    r.append(self.client)  # notice a disconnect
                if self.to_client:
                    w.append(self.client)
            try:
                rr, ww, _ = select.select(r, w, [], 1.0)
            except (OSError, ValueError):
                continue
            if self.wake_r in rr:
                try:
                    os.read(self.wake_r, 4096)
                except OSError:
                    pass
            if self.emu_listener is not None and self.emu_listener in rr and not self.emu_connected:
                try:
                    conn, _ = self.emu_listener.accept()
                except OSError:
                    conn = None
                if conn is not None:
                    conn.setblocking(False)
                    self.emu = conn
                    self.emu_connected = True
                    self.emu_listener.close()
                    self.emu_listener = None
                    if self.com1_unix:
                        try:
                            os.unlink(self.com1_unix)
                        except OSError:
                            pass
            if self.emu is not None and self.emu in rr:
                data = _recv(self.emu, 65536)
                if data == b"":
                    self._emu_closed()
                elif data:
                    self._from_emu(data)
            if self.emu is not None and self.emu in ww:
                with self.lock:
                    if not _send_some(self.emu, self.to_emu):
                        self.to_emu = bytearray()
                        self._emu_closed()
            if self.listener is not None and self.listener in rr:
                self._accept_client()
            if self.client is not None and self.client in rr:
                data = _recv(self.client, 4096)
                if data == b"":
                    self._drop_client()
                elif data and not self.emu_eof:
                    with self.lock:
                        self.to_emu += data
            if self.client is not None and self.client in ww:
                if not _send_some(self.client, self.to_client):
                    self._drop_client()
            if self.spec is None and self.emu_eof and self.client is not None and not self.to_client:
                self._drop_client()  # the script has COM1's last bytes: now the end

    # -- the end ----------------------------------------------------------------
    def finish(self):
        """After the emulator stopped: wait for its last COM1 bytes (EOF)
        and record what went wrong."""
        deadline = time.monotonic() + CONSOLE_FINISH_WAIT
        while self.emu_connected and not self.emu_eof and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.emu_connected:
            self.failures.append("COM1: the emulator never connected to the runner's socket")
        # flush what the client has not received yet, then close it
        deadline = time.monotonic() + 1.0
        while self.client is not None and self.to_client and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self):
        """Stops the thread, closes every socket, removes the socket files.
        Idempotent; also runs at exit."""
        if self.closed:
            return
        self.closed = True
        self.closing = True
        self._wake()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(2.0)
        for s in (self.client, self.listener, self.emu, self.emu_listener):
            if s is not None:
                _close_quietly(s)
        self.client = self.listener = self.emu = self.emu_listener = None
        for path, ino in ((self.unix_path, self.unix_ino), (self.com1_unix, None)):
            if not path:
                continue
            try:
                if ino is None or os.lstat(path).st_ino == ino:
                    os.unlink(path)
            except OSError:
                pass
        for fd in (self.wake_r, self.wake_w, self.log_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.log_fd = None
