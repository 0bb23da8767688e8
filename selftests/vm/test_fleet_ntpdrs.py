#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""In the VM only: ntpd-rs 1.9 as a client of an xntsd fleet (issue 15).
On the host, ntp-daemon without CAP_SYS_TIME exits at start ("Could not
control clock: Insufficient permissions"), so this part of
selftests/net/test_fleet.py runs in the guest, where ntpd-rs keeps the
right to set the clock. With two sources and ntpd-rs's default of three
agreeing sources it does not change the guest's clock either; the clock
discipline is put back afterwards all the same.

One KE host (127.0.0.1) names an NTP-only host per listener: ntp1
(127.0.0.2, restarted mid-test) and ntp2 (127.0.0.3), which share only the
secret with it. ntp-daemon has one NTS source per listener.
  - first_answers: each source's first authenticated answer comes from the
    host the KE named; the time from the end of NTS-KE to it is printed
    (bounds from polling the KE host's cookies_issued and the NTP host's
    NTS counter, which counts only ntpd-rs's requests);
  - rotations_and_restart: three rotation boundaries (period shortened by
    configuration), a restart of ntp1, two more boundaries: no NAK from
    either host and no second key exchange."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))
from xnts import (Daemon, NtpdRs, Pki, check, ke_exchange,  # noqa: E402
                  request, REC_COOKIE)
from ntpsec_interop import run_guest_tests  # noqa: E402
from test_fleet import IV, keyset, secret  # noqa: E402

HOSTS = {"ntp1": "127.0.0.2", "ntp2": "127.0.0.3"}
KE_PORTS = {"ntp1": 24470, "ntp2": 24471}
NAMES = {"ntp1": "localhost", "ntp2": "127.0.0.1"}


class Env:
    def __init__(self, wd):
        self.wd = wd
        self.pki = Pki(wd)
        self.sec = secret(wd, "fleet.secret")
        self.ke = self.nr = None
        self.hosts = {}
        self.base = {}


def ntp_host(env, name):
    return Daemon(env.wd, name, '[[server]]\nlisten = "%s:123"\n\n%s\n[synchronization]\n'
                  'local-stratum = 1\n' % (HOSTS[name], keyset(env.sec)))


def srv(d):
    return d.status()["ntp_servers"][0]


def ke_listeners(env):
    return dict(zip(KE_PORTS, env.ke.status()["nts_ke_servers"]))


def t_first_answers(env):
    c = ""
    for h, port in KE_PORTS.items():
        c += ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
              'private-key-path = "%s"\nntp-server = "%s"\nntp-port = 123\n\n'
              % (port, env.pki.cert, env.pki.key, HOSTS[h]))
    env.ke = Daemon(env.wd, "ke", c + keyset(env.sec))
    env.hosts = {h: ntp_host(env, h) for h in HOSTS}
    # The first kTLS exchange autoloads the tls and cipher modules, which is
    # slow under TCG: a probe takes that cost before the figures.
    recs, _ = ke_exchange(KE_PORTS["ntp2"], request(), ca=env.pki.ca, timeout=60)
    check(any(r[0] == REC_COOKIE for r in recs), "warm-up exchange: %r" % recs)
    env.base = {h: dict(k) for h, k in ke_listeners(env).items()}

    conf = ('[source-defaults]\npoll-interval-limits = { min = 0, max = 0 }\n'
            'initial-poll-interval = 0\n\n')
    for h, port in KE_PORTS.items():
        conf += ('[[source]]\nmode = "nts"\naddress = "%s:%d"\n'
                 'certificate-authority = "%s"\n\n' % (NAMES[h], port, env.pki.ca))
    env.nr = NtpdRs(env.wd, "ntpdrs", conf, clock=True, level="info")

    # An event first seen by a read happened after the start of the
    # previous read of the same kind and before the end of this one.
    prev, ke_end, ans, received = {}, {}, {}, {}

    def read(what, fn):
        t0 = time.time()
        v = fn()
        lo = prev.get(what, t0)
        prev[what] = t0
        return v, lo, time.time()

    def read_ke():
        kes, lo, hi = read("ke", lambda: ke_listeners(env))
        for h, k in kes.items():
            if h not in ke_end and k["cookies_issued"] > env.base[h]["cookies_issued"]:
                ke_end[h] = (lo, hi)

    end = time.time() + 120
    while time.time() < end and len(ans) < len(HOSTS):
        check(env.nr.proc.poll() is None, "ntpd-rs exited:\n" + env.nr.logtext()[-3000:])
        read_ke()
        for h in HOSTS:
            v, lo, hi = read(h, lambda: srv(env.hosts[h]))
            if h not in ans and v["nts"] >= 1:
                if h not in ke_end:
                    read_ke()   # it ended after this round's read of the KE host
                check(h in ke_end, "an NTS answer from %s before the key exchange" % h)
                ans[h] = (lo, hi)
                received[h] = v["received"]
        time.sleep(0.05)
    check(len(ans) == len(HOSTS), "NTS answers from every host: %r\nntp-ctl:\n%s"
          % (sorted(ans), env.nr.ctl("status")))
    print("# figure: NTS-KE end to first authenticated answer from another host, ntpd-rs "
          "client (bounds from polling the KE host and the NTP host; TCG): %s"
          % ", ".join("%s %.0f-%.0f ms" % (h, max(0.0, ans[h][0] - ke_end[h][1]) * 1000,
                                           (ans[h][1] - ke_end[h][0]) * 1000) for h in HOSTS))
    # Where the time went: how many requests each host had received by then.
    print("# requests from ntpd-rs at each host by its first NTS answer: %r" % received)
    for h in HOSTS:
        s = srv(env.hosts[h])
        check(s["nak"] == 0 and s["received"] >= 1, "%s: %r" % (h, s))


def period(d):
    return d.status()["keyset"]["period"]


def wait(d, pred, what, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError("%s: timed out waiting for %s\nlog:\n%s"
                         % (d.name, what, d.logtext()[-3000:]))


def t_rotations_and_restart(env):
    check(env.nr is not None, "no ntpd-rs from the first case")
    h = env.hosts
    p0 = period(h["ntp1"])
    wait(h["ntp1"], lambda: period(h["ntp1"]) >= p0 + 3, "3 boundaries", 4 * IV + 20)
    nak_before = srv(h["ntp1"])["nak"]
    h["ntp1"].stop()
    time.sleep(1.5)     # as in test_fleet.py: the old ring lets go of the port
    h["ntp1"] = ntp_host(env, "ntp1")
    p1 = period(h["ntp1"])
    wait(h["ntp1"], lambda: period(h["ntp1"]) >= p1 + 2, "2 boundaries", 3 * IV + 20)
    wait(h["ntp1"], lambda: srv(h["ntp1"])["nts"] >= 5, "answers after the restart", 60)
    n2 = srv(h["ntp2"])
    naks = {"ntp1": nak_before, "ntp1 (restarted)": srv(h["ntp1"])["nak"],
            "ntp2": n2["nak"]}
    print("# figure: NAKs over %d rotation boundaries and a restart, ntpd-rs client, "
          "per host: %r" % (p1 + 2 - p0, naks))
    check(set(naks.values()) == {0}, "no NAK: %r" % naks)
    check(n2["nts"] >= 15, "ntp2 answered throughout: %r" % n2)
    kes = ke_listeners(env)
    check(all(kes[x]["handshakes_ok"] == env.base[x]["handshakes_ok"] + 1 for x in kes),
          "one key exchange per source for the whole run: %r -> %r" % (env.base, kes))
    out = env.nr.ctl("status")
    print("".join("# ntp-ctl status: %s\n" % x for x in out.splitlines()), end="")


def main():
    run_guest_tests([t_first_answers, t_rotations_and_restart], Env,
                    lambda env: [env.nr] + list(env.hosts.values()) + [env.ke], "ntpd-rs")


if __name__ == "__main__":
    main()
