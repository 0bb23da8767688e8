#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Interop with ntpsec 1.2.2 (Debian's, unpacked by tools/fetch-peers), in
the VM guest only: ntpd disciplines the clock it runs on, which must never
happen on the host. Run by test_interop_ntpsec.sh.

Everything is on the guest's loopback (the guest is its own machine):
  1. xntsd serves NTS-KE on KE_PORT and NTP on NTP_PORT (told to clients in
     the KE port record); ntpd is its NTS client (server localhost:KE_PORT
     nts ca ...), counted through ntpq's NTS counters and xntsd's status.
  2. ntpd, synchronised to xntsd, is also an NTS server (nts enable, its
     own KE port 4460 and NTP port 123); a second xntsd is its NTS client
     and must collect authenticated samples.
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))
from xnts import (PEERS, NTPD, REC_COOKIE, Daemon, Ktap, Pki, Workdir,  # noqa: E402
                  check, ke_exchange, request)

NTPQ = os.path.join(PEERS, "ntpsec", "usr", "bin", "ntpq")
PYNTP = os.path.join(PEERS, "python3-ntp", "usr", "lib", "python3", "dist-packages")
KE_PORT = 14460
NTP_PORT = 11123
NTPSEC_KE_PORT = 4460


class Timex(ctypes.Structure):
    """struct timex (x86_64; ctypes adds the same padding as the C ABI)."""
    _fields_ = ([("modes", ctypes.c_uint)] +
                [(n, ctypes.c_long) for n in ("offset", "freq", "maxerror", "esterror")] +
                [("status", ctypes.c_int)] +
                [(n, ctypes.c_long) for n in ("constant", "precision", "tolerance",
                                              "tv_sec", "tv_usec", "tick", "ppsfreq",
                                              "jitter")] +
                [("shift", ctypes.c_int)] +
                [(n, ctypes.c_long) for n in ("stabil", "jitcnt", "calcnt", "errcnt",
                                              "stbcnt")] +
                [("tai", ctypes.c_int), ("pad", ctypes.c_int * 11)])


ADJ_OFFSET, ADJ_FREQUENCY, ADJ_MAXERROR, ADJ_ESTERROR = 0x1, 0x2, 0x4, 0x8
ADJ_STATUS, ADJ_TIMECONST = 0x10, 0x20
_libc = ctypes.CDLL(None, use_errno=True)


def clock_state():
    t = Timex()
    if _libc.adjtimex(ctypes.byref(t)) < 0:
        raise OSError(ctypes.get_errno(), "adjtimex")
    return t


def restore_clock(saved):
    """ntpd leaves the kernel's PLL running with its frequency and pending
    offset when it exits. Put back what the guest had before (guest only),
    so later tests in the same boot start from the usual state."""
    t = Timex()
    t.modes = (ADJ_OFFSET | ADJ_FREQUENCY | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_STATUS |
               ADJ_TIMECONST)
    t.offset = 0
    t.freq = saved.freq
    t.maxerror = saved.maxerror
    t.esterror = saved.esterror
    t.status = saved.status
    t.constant = saved.constant
    if _libc.adjtimex(ctypes.byref(t)) < 0:
        raise OSError(ctypes.get_errno(), "adjtimex restore")


def in_guest():
    with open("/proc/cmdline") as f:
        return "xnts_vm=1" in f.read().split()


def run_guest_tests(tests, make_env, processes, who, after=None):
    """The main of a VM test whose peer may discipline the clock: refuse to
    run outside the guest, run the cases on make_env(workdir), then stop
    processes(env) and put the guest's clock discipline back."""
    if not in_guest():
        # The peer would discipline the host's clock: never run it there.
        print("TAP version 13\n1..0 # %s: not in the VM guest: run through tools/vmtest"
              % who)
        sys.exit(1)
    saved = clock_state()
    k = Ktap(len(tests))
    with Workdir() as wd:
        env = make_env(wd)
        try:
            for t in tests:
                k.case(t.__name__[2:], t, env)
            if after is not None:
                after(env)
        finally:
            for p in processes(env):
                if p is not None:
                    p.stop()
            restore_clock(saved)
            now = clock_state()
            print("# kernel clock discipline restored: status %#x freq %d (was %#x %d)"
                  % (now.status, now.freq, saved.status, saved.freq))
    k.finish()


class Ntpd:
    """ntpsec's ntpd in the foreground (-n), as root (no -u), logging to a
    file in dir; its cookie keys in dir too."""

    def __init__(self, d, config):
        self.dir = d
        self.conf = os.path.join(d, "ntp.conf")
        self.log = os.path.join(d, "ntpd.log")
        with open(self.conf, "w") as f:
            f.write(config)
            f.write("\nlogfile %s\nlogconfig =all\nnts cookie %s/nts-keys\n"
                    "restrict default kod limited nomodify\n"
                    "restrict 127.0.0.1\nrestrict ::1\n" % (self.log, d))
        self.out = open(os.path.join(d, "ntpd.out"), "w")
        self.proc = subprocess.Popen([NTPD, "-n", "-g", "-c", self.conf,
                                      "-p", os.path.join(d, "ntpd.pid")],
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def logtext(self):
        text = ""
        for name in ("ntpd.out", "ntpd.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def ntpq(self, *cmds):
        argv = [sys.executable, NTPQ, "-n"]
        for c in cmds:
            argv += ["-c", c]
        argv.append("127.0.0.1")
        env = dict(os.environ, PYTHONPATH=PYNTP)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        except subprocess.TimeoutExpired:
            # Under TCG a busy ntpd may not answer in time; callers poll.
            return ""
        return r.stdout + r.stderr

    def rv(self, assoc, *names):
        """Variables of the system (assoc 0) or of an association as a
        dict of strings; missing ones are absent."""
        out = self.ntpq("rv %s %s" % (assoc, ",".join(names)))
        return dict(re.findall(r"([a-z_]+)=\"?([^,\"\s]*)\"?", out))

    def wait_for(self, pred, what, timeout):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("ntpd exited %d:\n%s" % (self.proc.returncode,
                                                               self.logtext()[-3000:]))
            last = pred()
            if last:
                return last
            time.sleep(1)
        raise AssertionError("ntpd: timed out waiting for %s\nntpq -p:\n%s\nlog:\n%s"
                             % (what, self.ntpq("peers"), self.logtext()[-3000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def counters(ntpd):
    v = ntpd.rv(0, "nts_client_send", "nts_client_recv_good", "nts_client_recv_bad",
                "nts_server_recv_good", "nts_server_recv_bad", "nts_server_send",
                "nts_ke_probes_good", "nts_ke_probes_bad", "nts_ke_serves_good",
                "nts_ke_serves_bad")
    return {k: int(x) for k, x in v.items() if x.isdigit()}


class Env:
    def __init__(self, wd):
        self.wd = wd
        self.pki = Pki(wd)
        self.srv = None
        self.ntpd = None
        self.cli = None


def t_xntsd_serves_ntpd(env):
    """ntpd does NTS-KE with xntsd and gets authenticated NTS answers."""
    env.srv = Daemon(env.wd, "srv",
                     '[[server]]\nlisten = "127.0.0.1:%d"\n\n[[nts-ke-server]]\n'
                     'listen = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
                     'private-key-path = "%s"\nntp-port = %d\n\n[synchronization]\n'
                     'local-stratum = 1\n'
                     % (NTP_PORT, KE_PORT, env.pki.cert, env.pki.key, NTP_PORT))
    # ntpd's NTS-KE client gives up after about 3 s. The first kTLS
    # exchange autoloads the tls and cipher modules, which under TCG takes
    # longer than that, so one exchange by an independent probe goes first.
    recs, _ = ke_exchange(KE_PORT, request(), ca=env.pki.ca, timeout=60)
    check(any(r[0] == REC_COOKIE for r in recs), "warm-up exchange: %r" % recs)
    # ntpd's own NTS-KE server runs from the start, so that the second case
    # finds it; it serves time only once synchronised to xntsd.
    conf = ("server localhost:%d nts ca %s iburst minpoll 0 maxpoll 1\n"
            "nts enable\nnts cert %s\nnts key %s\n"
            % (KE_PORT, env.pki.ca, env.pki.cert, env.pki.key))
    for attempt in range(3):
        env.ntpd = Ntpd(env.wd, conf)
        c = env.ntpd.wait_for(lambda: (lambda c: c if c.get("nts_ke_probes_good", 0) +
                                       c.get("nts_ke_probes_bad", 0) else None)(
                                           counters(env.ntpd)),
                              "ntpd's NTS-KE with xntsd", 60)
        # A failed exchange is retried by ntpd only after an hour. Its KE
        # client times out after about 3 s, which a starved TCG guest can
        # exceed: that one symptom (and only that) gets a fresh ntpd.
        if c.get("nts_ke_probes_good", 0) or \
                "SSL_read error: Resource temporarily unavailable" not in env.ntpd.logtext():
            break
        print("# ntpd's NTS-KE timed out (attempt %d), starting ntpd again" % (attempt + 1))
        env.ntpd.stop()

    def ntpd_got_answers():
        c = counters(env.ntpd)
        return c if c.get("nts_client_recv_good", 0) >= 4 else None
    c = env.ntpd.wait_for(ntpd_got_answers, "4 good NTS answers from xntsd", 90)
    print("# ntpd NTS counters: %r" % c)
    check(c.get("nts_ke_probes_good", 0) >= 1 and c.get("nts_ke_probes_bad", 0) == 0,
          "ntpd's NTS-KE with xntsd: %r" % c)
    check(c.get("nts_client_recv_bad", 0) == 0, "ntpd rejected answers: %r" % c)
    peers = env.ntpd.ntpq("peers")
    print("".join("# ntpq -p: %s\n" % x for x in peers.splitlines()), end="")
    # The association talks to the port xntsd announced in NTS-KE.
    a = env.ntpd.rv("&1", "srcport", "reach", "ntscookies", "flash")
    print("# ntpd association 1: %r" % a)
    check(a.get("srcport") == str(NTP_PORT), "ntpd used the KE port record: %r" % a)
    check(int(a.get("reach", "0"), 8) != 0, "reach: %r" % a)
    check(int(a.get("ntscookies", "0")) >= 1, "ntpd cookies: %r" % a)
    st = env.srv.status()
    ns = st["ntp_servers"][0]
    ks = st["nts_ke_servers"][0]
    print("# xntsd server: ntp %r ke handshakes_ok %s" % (ns, ks["handshakes_ok"]))
    check(ks["handshakes_ok"] >= 1, "xntsd served NTS-KE: %r" % ks)
    check(ns["nts"] >= 4 and ns["nak"] == 0, "xntsd served NTS: %r" % ns)


def t_ntpd_syncs_to_xntsd(env):
    """ntpd selects xntsd as its system peer (leap 00, stratum 2)."""
    check(env.ntpd is not None, "no ntpd from the previous case")

    def synced():
        v = env.ntpd.rv(0, "leap", "stratum", "refid", "offset")
        return v if v.get("leap") == "00" and v.get("stratum") == "2" else None
    v = env.ntpd.wait_for(synced, "synchronisation to xntsd", 120)
    print("# ntpd system: %r" % v)


def t_xntsd_client_of_ntpd(env):
    """xntsd does NTS-KE with ntpd and takes authenticated samples."""
    check(env.ntpd is not None, "no ntpd from the previous case")
    before = counters(env.ntpd)
    env.cli = Daemon(env.wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\n'
                     'initial-poll-interval = 0\n' % (NTPSEC_KE_PORT, env.pki.ca))
    st = env.cli.wait_for(lambda s: s["sources"][0]["associations"] and
                          s["sources"][0]["associations"][0]["received"] >= 3,
                          "authenticated samples from ntpd", timeout=60)
    src = st["sources"][0]
    a = src["associations"][0]
    print("# xntsd client: ke %r assoc %r" % (src["nts_ke"], a))
    check(src["nts_ke"]["state"] == "done", "KE with ntpd: %r" % src["nts_ke"])
    check(src["nts_ke"]["ntp_port"] == 123, "ntpd's NTP port: %r" % src["nts_ke"])
    check(a["stratum"] == 2 and abs(a["offset"]) < 0.1, "samples: %r" % a)
    after = counters(env.ntpd)
    print("# ntpd NTS counters: %r" % after)
    check(after.get("nts_ke_serves_good", 0) > before.get("nts_ke_serves_good", 0),
          "ntpd counted our NTS-KE: %r -> %r" % (before, after))
    check(after.get("nts_server_recv_good", 0) - before.get("nts_server_recv_good", 0)
          >= 3, "ntpd counted our NTS requests: %r -> %r" % (before, after))
    check(after.get("nts_server_recv_bad", 0) == 0, "ntpd rejected requests: %r" % after)


def main():
    run_guest_tests([t_xntsd_serves_ntpd, t_ntpd_syncs_to_xntsd, t_xntsd_client_of_ntpd],
                    Env, lambda env: (env.cli, env.ntpd, env.srv), "ntpd")


if __name__ == "__main__":
    main()
