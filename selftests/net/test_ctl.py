#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The control socket ([observability] observation-path): created with the
mode observation-permissions gives (through the umask at bind time, never a
chmod), a bounded number of connections (the one beyond the bound is closed
unanswered while the others are open), and connections that outlive
CTL_TIMEOUT_MS are closed so that they free their place."""

import os
import socket
import stat
import time

from xnts import Daemon, Ktap, Workdir, check, free_port

CTL_MAX_CONNS = 16
CTL_TIMEOUT_S = 2.0


def ask(path, req=b"status json\n"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    data = b""
    try:
        s.sendall(req)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed before the request went out: refused
    s.close()
    return data


def t_mode(wd):
    for perms, want in ((None, 0o666), (0o660, 0o660), (0o600, 0o600)):
        extra = "" if perms is None else "observation-permissions = %d\n" % perms
        d = Daemon(wd, "mode%o" % want, '[[server]]\nlisten = "127.0.0.1:%d"\n'
                   % free_port(2), observability=extra)
        try:
            st = os.stat(d.sock)
            check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == want,
                  "socket mode %o, want %o" % (stat.S_IMODE(st.st_mode), want))
            check(b'"version"' in ask(d.sock), "answers")
        finally:
            check(d.stop() == 0, "clean exit")


def t_connection_bound(wd):
    d = Daemon(wd, "bound", '[[server]]\nlisten = "127.0.0.1:%d"\n' % free_port(2))
    idle = []
    try:
        for _ in range(CTL_MAX_CONNS):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            idle.append(s)
        time.sleep(0.2)
        # All places taken by silent clients: the next one is closed unanswered.
        check(ask(d.sock) == b"", "a connection beyond the bound is refused")
        check("closing new ones" in d.logtext(), "logged:\n" + d.logtext()[-2000:])
        # The silent ones are cut off after the timeout and free their places.
        time.sleep(CTL_TIMEOUT_S + 0.5)
        for s in idle:
            s.settimeout(1)
            check(s.recv(16) == b"", "an idle connection was closed")
        check(b'"version"' in ask(d.sock), "served again")
    finally:
        for s in idle:
            s.close()
        check(d.stop() == 0, "clean exit")


def main():
    tests = [t_mode, t_connection_bound]
    k = Ktap(len(tests))
    for t in tests:
        with Workdir() as wd:
            k.case(t.__name__[2:], t, wd)
    k.finish()


if __name__ == "__main__":
    main()
