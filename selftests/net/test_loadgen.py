#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The load generator (build/ntp_load) is right: against chronyd -x on
loopback it sees only valid answers in plain and NTS mode, and behind a
proxy that damages chrony's answers (origin, UID, authenticator) it counts
every answer invalid and none received. A silent server gives 100% loss and
the tool still stops by itself. Also runs build/ntp_bench once."""

import os
import re
import select
import socket
import struct
import subprocess
import threading
import time

from xnts import BUILD, Chronyd, Daemon, Ktap, Pki, Workdir, check, free_port

NTP_LOAD = os.path.join(BUILD, "ntp_load")
NTP_BENCH = os.path.join(BUILD, "ntp_bench")

DETAIL = re.compile(r"#  detail rate (\d+): invalid origin (\d+) uid (\d+) auth (\d+) "
                    r"format (\d+) dup (\d+); late (\d+) send_err (\d+) "
                    r"cookie_reuse (\d+) cookie_err (\d+)")
COLS = ("rate", "tx_pps", "sent", "recv", "loss", "invalid", "nak", "kiss")


def load(*args, timeout=60):
    """Runs ntp_load; returns (rows, final line, stdout)."""
    p = subprocess.run([NTP_LOAD] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout)
    check(p.returncode == 0, "ntp_load exited %d:\n%s%s" % (p.returncode, p.stdout,
                                                            p.stderr))
    rows, final = [], None
    for line in p.stdout.splitlines():
        m = DETAIL.match(line)
        if m:
            v = [int(x) for x in m.groups()]
            check(rows and rows[-1]["rate"] == v[0], "detail follows its row")
            rows[-1].update(zip(("origin", "uid", "auth", "format", "dup", "late",
                                 "send_err", "reuse", "cookie_err"), v[1:]))
        elif line.startswith("highest rate"):
            final = line
        elif line and not line.startswith("#"):
            f = line.split()
            rows.append({k: float(x) for k, x in zip(COLS, f)})
            rows[-1]["t32_p50"] = None if f[8] == "-" else float(f[8])
            rows[-1]["rtt_p50"] = None if f[11] == "-" else float(f[11])
            check(rows[-1]["recv"] > 0 or f[8:14] == ["-"] * 6,
                  "no times without answers: " + line)
    check(rows and final, "table and final line in output:\n" + p.stdout)
    return rows, final, p.stdout


class Proxy:
    """UDP proxy in front of chrony that damages every answer with fn."""

    def __init__(self, upstream, fn):
        self.fn = fn
        self.up = upstream
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.who = {}
        self.answered = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.front, self.back], [], [], 0.1)
            if self.front in r:
                data, addr = self.front.recvfrom(4096)
                if len(data) >= 48:
                    self.who[data[40:48]] = addr
                    self.back.sendto(data, self.up)
            if self.back in r:
                data, _ = self.back.recvfrom(4096)
                addr = self.who.pop(data[24:32], None)
                if addr and len(data) >= 48:
                    self.front.sendto(self.fn(bytearray(data)), addr)
                    self.answered += 1

    def close(self):
        self.stop = True
        self.t.join()
        self.front.close()
        self.back.close()


def ef_find(p, ftype):
    """Offset of the body of the first extension field of ftype."""
    off = 48
    while off + 4 <= len(p):
        t, n = struct.unpack(">HH", p[off:off + 4])
        if t == ftype:
            return off + 4
        if n < 4:
            break
        off += n
    raise AssertionError("no field %#x in answer" % ftype)


def bad_origin(p):
    p[31] ^= 0x80
    return bytes(p)


def bad_uid(p):
    p[ef_find(p, 0x0104)] ^= 1
    return bytes(p)


def bad_auth(p):
    b = ef_find(p, 0x0404)
    nonce_len = struct.unpack(">H", p[b:b + 2])[0]
    p[b + 4 + ((nonce_len + 3) & ~3)] ^= 1  # first byte of the SIV tag
    return bytes(p)


class Env:
    def __init__(self, wd):
        self.wd = wd
        self.pki = Pki(wd)
        self.ke_port, self.ntp_port = free_port(), free_port(socket.SOCK_DGRAM)
        self.chrony = Chronyd(wd, "srv", "ntsserverkey %s\nntsservercert %s\nntsport %d\n"
                              "port %d\nlocal stratum 1\nallow 127.0.0.1\n"
                              % (self.pki.key, self.pki.cert, self.ke_port,
                                 self.ntp_port))
        self.wait_ke()

    def wait_ke(self):
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.ke_port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("chrony NTS-KE not listening:\n" + self.chrony.logtext())

    def nts_args(self, port=None):
        return ["-m", "nts", "-k", "127.0.0.1", "-K", self.ke_port, "-a", self.pki.ca,
                "-t", "127.0.0.1", "-p", port or self.ntp_port]


def all_valid(rows, nts):
    for r in rows:
        check(r["sent"] > 0 and r["recv"] > 0, "answers received: %r" % r)
        check(r["invalid"] == 0 and r["origin"] + r["uid"] + r["auth"] + r["format"] +
              r["dup"] == 0, "no invalid answers from chrony: %r" % r)
        check(r["nak"] == 0 and r["kiss"] == 0, "no NAK or kiss code: %r" % r)
        check(r["send_err"] == 0, "no send errors: %r" % r)
        # Loss depends on how busy the machine is; the figures must add up.
        check(abs(r["loss"] - 100.0 * (r["sent"] - r["recv"]) / r["sent"]) < 0.01,
              "loss is 1 - recv/sent: %r" % r)
        check(0 <= r["t32_p50"] < 1e6 and 0 < r["rtt_p50"] < 1e6,
              "plausible times: %r" % r)


def best_consistent(rows, final):
    """The final line names the fastest step with <= 1% loss."""
    ok = [r["rate"] for r in rows if r["recv"] * 100 >= r["sent"] * 99 and
          r["tx_pps"] >= 0.97 * r["rate"]]
    want = ("%d pps" % max(ok)) if ok else "none"
    check(final.startswith("highest rate with <= 1% loss: " + want),
          "final line %r, expected %s from %r" % (final, want, rows))


def t_plain_chrony(env):
    rows, final, out = load("-t", "127.0.0.1", "-p", env.ntp_port, "-c", 8,
                            "-r", "200,1000", "-d", 0.5, "-w", 0.3,
                            "-P", env.chrony.proc.pid)
    check(len(rows) == 2, "two steps:\n" + out)
    all_valid(rows, False)
    best_consistent(rows, final)
    check(final.endswith("none") or re.search(r"server cpu [0-9.]+ ms/1000", final),
          "server cpu measured: " + final)


def t_nts_chrony(env):
    # 24 clients on 3 exchanges: one cookie each to start with. Without the
    # cookies from answers (and placeholders asking for more) nearly every
    # request would reuse a cookie.
    rows, final, out = load(*env.nts_args(), "-c", 24, "-e", 3, "-r", "200,500",
                            "-d", 0.5, "-w", 0.3)
    check("NTS-KE: 3 exchanges" in out and "AEAD 15" in out, "KE line:\n" + out)
    all_valid(rows, True)
    sent = sum(r["sent"] for r in rows)
    reuse = sum(r["reuse"] for r in rows)
    check(reuse < (sent - 24) / 4, "jars refilled from answers: %d reuses in %d" %
          (reuse, sent))
    best_consistent(rows, final)


def t_nts_more_clients_than_exchanges_refused(env):
    p = subprocess.run([NTP_LOAD] + [str(a) for a in env.nts_args()] +
                       ["-c", "17", "-e", "2"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 2, "17 clients on 16 cookies refused: %d" % p.returncode)


def corrupt(env, fn, nts, field):
    px = Proxy(("127.0.0.1", env.ntp_port), fn)
    try:
        args = env.nts_args(px.port) if nts else ["-t", "127.0.0.1", "-p", px.port]
        rows, final, out = load(*args, "-c", 4, "-r", 100, "-d", 0.5, "-w", 0.3)
    finally:
        px.close()
    r = rows[0]
    check(px.answered > 0, "proxy passed answers on")
    check(r["recv"] == 0 and r["loss"] == 100.0, "no damaged answer accepted: %r" % r)
    check(r[field] == px.answered and r["invalid"] == px.answered,
          "all %d damaged answers counted as %s: %r" % (px.answered, field, r))
    check(final.endswith("none"), final)


def t_bad_origin_plain(env):
    corrupt(env, bad_origin, False, "origin")


def t_bad_origin_nts(env):
    corrupt(env, bad_origin, True, "origin")


def t_bad_uid_nts(env):
    corrupt(env, bad_uid, True, "uid")


def t_bad_authenticator_nts(env):
    corrupt(env, bad_auth, True, "auth")


def t_silent_server(env):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        t0 = time.time()
        rows, final, _ = load("-t", "127.0.0.1", "-p", s.getsockname()[1], "-c", 2,
                              "-r", "100,200", "-d", 0.3, "-w", 0.1, "-X")
        took = time.time() - t0
    finally:
        s.close()
    check(len(rows) == 1, "-X stops after the first lossy step: %r" % rows)
    check(rows[0]["recv"] == 0 and rows[0]["loss"] == 100.0 and rows[0]["sent"] == 30,
          "all lost: %r" % rows[0])
    check(final.endswith("none"), final)
    check(took < 5, "finished in %.1f s" % took)


def start_xntsd(env, name):
    ntp_port = free_port(socket.SOCK_DGRAM)
    ke_port = free_port()
    d = Daemon(env.wd, name, '[[server]]\nlisten = "127.0.0.1:%d"\n\n'
               '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
               'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
               % (ntp_port, ke_port, env.pki.cert, env.pki.key), level="info")
    return d, ntp_port, ke_port


def t_xntsd(env):
    """xntsd as the server: every answer valid, and no NAK although clients
    start with one cookie each, so their first requests ask for 7 more and
    later ones spend cookies that came back in answers."""
    d, ntp_port, ke_port = start_xntsd(env, "xntsd")
    try:
        rows, final, _ = load("-t", "127.0.0.1", "-p", ntp_port, "-c", 8,
                              "-r", "200,500", "-d", 0.5, "-w", 0.3)
        all_valid(rows, False)
        best_consistent(rows, final)
        rows, final, _ = load("-m", "nts", "-k", "127.0.0.1", "-K", ke_port, "-a",
                              env.pki.ca, "-t", "127.0.0.1", "-p", ntp_port,
                              "-c", 16, "-e", 2, "-r", "200,500", "-d", 0.5, "-w", 0.3)
        all_valid(rows, True)
        best_consistent(rows, final)
    finally:
        check(d.stop() == 0, "xntsd exits cleanly")


def t_ntp_bench(env):
    p = subprocess.run([NTP_BENCH, "-n", "2000"], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "ntp_bench: %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check(re.search(r"^plain .*: \d+ ns/request$", p.stdout, re.M), p.stdout)
    check(len(re.findall(r"^nts .*: \d+ ns/request$", p.stdout, re.M)) == 2, p.stdout)


def main():
    tests = [t_plain_chrony, t_nts_chrony, t_nts_more_clients_than_exchanges_refused,
             t_bad_origin_plain, t_bad_origin_nts, t_bad_uid_nts,
             t_bad_authenticator_nts, t_silent_server, t_xntsd, t_ntp_bench]
    k = Ktap(len(tests))
    with Workdir() as wd:
        env = None
        try:
            env = Env(wd)
            for t in tests:
                k.case(t.__name__[2:], t, env)
        finally:
            if env:
                env.chrony.stop()
    k.finish()


if __name__ == "__main__":
    main()
