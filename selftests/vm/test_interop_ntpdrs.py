#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""In the VM only: ntpd-rs 1.9 (Debian unstable's ntp-daemon, unpacked by
tools/fetch-peers) as an NTS client of xntsd. As a client ntpd-rs sets the
clock and has no option against it, so it runs only in the guest, with the
right to do so, and the guest's clock discipline is put back afterwards.

One xntsd serves NTS-KE on KE_PORT and NTP only on NTP_PORT, which it
announces in the NTS-KE port record. One ntp-daemon has two NTS sources on
it: by name (localhost) and by IP address (127.0.0.1, an IP SAN in the test
certificate).
  - ntpdrs_by_name / ntpdrs_by_ip: each source completes NTS-KE and gets
    authenticated answers (ntp-ctl's per-source metrics), and xntsd counts
    NTS answers and no NAK;
  - ntpdrs_follows_ke_port: both sources poll the announced port;
  - ntpdrs_syncs_to_xntsd: ntpd-rs synchronises to xntsd (stratum 2);
  - ntpdrs_nts_pool_source: a third source in nts-pool mode (count 2) treats
    xntsd's KE as a pool KE with one member: its second exchange carries an
    NTP Server Deny record (13) for the server the first gave it, which
    xntsd parses, counts and ignores (Documentation/nts-ke.md).
The other direction (xntsd as a client of ntpd-rs) runs on the host:
selftests/net/test_interop_ntpdrs.py."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))
from xnts import (REC_COOKIE, Daemon, NtpdRs, Pki,  # noqa: E402
                  check, ke_exchange, request)
from ntpsec_interop import run_guest_tests  # noqa: E402

KE_PORT = 24460
NTP_PORT = 21123
SOURCES = {"by_name": "localhost:%d" % KE_PORT, "by_ip": "127.0.0.1:%d" % KE_PORT}


class Env:
    def __init__(self, wd):
        self.wd = wd
        self.pki = Pki(wd)
        self.srv = None
        self.nr = None


def source_metric(env, metric, name):
    """{address label: value} of metric for the source configured as name
    (ntp-ctl labels each source with its configured name and the NTP
    address it polls)."""
    out = {}
    for (n, labels), v in env.nr.metrics().items():
        lab = dict(x.split("=", 1) for x in labels.split(",") if "=" in x)
        if n == metric and lab.get("name") == '"%s"' % name:
            out[lab.get("address", "").strip('"')] = v
    return out


def wait(env, pred, what, timeout):
    import time
    end = time.time() + timeout
    while time.time() < end:
        check(env.nr.proc.poll() is None,
              "ntpd-rs exited:\n" + env.nr.logtext()[-3000:])
        v = pred()
        if v:
            return v
        time.sleep(1)
    raise AssertionError("timed out waiting for %s\nntp-ctl status:\n%s\nlog:\n%s"
                         % (what, env.nr.ctl("status"), env.nr.logtext()[-3000:]))


def t_ntpdrs_starts(env):
    """xntsd serves; ntp-daemon starts with both sources on it."""
    env.srv = Daemon(env.wd, "srv",
                     '[[server]]\nlisten = "127.0.0.1:%d"\n\n[[nts-ke-server]]\n'
                     'listen = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
                     'private-key-path = "%s"\nntp-port = %d\n\n[synchronization]\n'
                     'local-stratum = 1\n'
                     % (NTP_PORT, KE_PORT, env.pki.cert, env.pki.key, NTP_PORT))
    # The first kTLS exchange autoloads the tls and cipher modules, which
    # is slow under TCG: an independent probe takes that cost first.
    recs, _ = ke_exchange(KE_PORT, request(), ca=env.pki.ca, timeout=60)
    check(any(r[0] == REC_COOKIE for r in recs), "warm-up exchange: %r" % recs)
    conf = ('[source-defaults]\npoll-interval-limits = { min = 0, max = 1 }\n'
            'initial-poll-interval = 0\n\n')
    for addr in SOURCES.values():
        conf += ('[[source]]\nmode = "nts"\naddress = "%s"\n'
                 'certificate-authority = "%s"\n\n' % (addr, env.pki.ca))
    conf += ('[[source]]\nmode = "nts-pool"\naddress = "localhost:%d"\n'
             'certificate-authority = "%s"\ncount = 2\n\n' % (KE_PORT, env.pki.ca))
    conf += '[synchronization]\nminimum-agreeing-sources = 1\n'
    env.nr = NtpdRs(env.wd, "ntpdrs", conf, clock=True, level="info")
    out = env.nr.ctl("status")
    print("".join("# ntp-ctl status: %s\n" % x for x in out.splitlines()), end="")


def by(key):
    def t(env):
        check(env.nr is not None, "no ntpd-rs from the first case")
        addr = SOURCES[key]

        def answered():
            # an offset exists once an authenticated answer was accepted
            off = source_metric(env, "ntp_source_offset_seconds", addr)
            return off if off else None
        off = wait(env, answered, "answers to the %s source" % key, 120)
        cookies = source_metric(env, "ntp_source_nts_cookies_available", addr)
        print("# ntpd-rs source %s: offset %r cookies %r" % (addr, off, cookies))
        check(list(cookies.values())[0] >= 1, "NTS cookies: %r" % cookies)
        check(any(line.startswith(addr + " ") and "[NTS]" in line
                  for line in env.nr.ctl("status").splitlines()),
              "ntp-ctl shows %s as an NTS source" % addr)
        st = env.srv.status()
        ns = st["ntp_servers"][0]
        print("# xntsd server: %r" % ns)
        check(ns["nts"] >= 2 and ns["nak"] == 0, "xntsd served NTS: %r" % ns)
    t.__name__ = "t_ntpdrs_" + key
    return t


def t_ntpdrs_follows_ke_port(env):
    check(env.nr is not None, "no ntpd-rs from the first case")
    polled = {}
    for addr in SOURCES.values():
        polled.update({addr: list(source_metric(env, "ntp_source_poll_interval_seconds",
                                                 addr))})
    print("# ntpd-rs sources poll: %r" % polled)
    check(all(a == ["127.0.0.1:%d" % NTP_PORT] for a in polled.values()),
          "ntpd-rs polls the port xntsd announced, %d: %r" % (NTP_PORT, polled))


def t_ntpdrs_syncs_to_xntsd(env):
    check(env.nr is not None, "no ntpd-rs from the first case")
    wait(env, lambda: env.nr.metric("ntp_system_stratum") == 2,
         "ntpd-rs at stratum 2", 120)


def t_ntpdrs_nts_pool_source(env):
    check(env.nr is not None, "no ntpd-rs from the first case")

    def denied():
        ke = env.srv.status()["nts_ke_servers"][0]
        return ke if ke["pool"]["deny_records"] >= 1 else None
    ke = wait(env, denied, "an NTP Server Deny record from the nts-pool source", 120)
    print("# xntsd KE: pool %r handshakes_ok %d" % (ke["pool"], ke["handshakes_ok"]))
    # Under TCG some connections time out (key-exchange-timeout-ms is 1 s);
    # none may be refused as malformed.
    check(ke["handshakes_ok"] >= 4 and ke["failed"]["bad_request"] == 0 and
          ke["failed"]["critical"] == 0 and ke["pool"]["bad_request"] == 0,
          "the pool source's exchanges served: %r" % ke)


def print_source_metrics(env):
    if env.nr is not None:
        m = env.nr.ctl("status", "-f", "prometheus")
        print("".join("# %s\n" % x for x in m.splitlines() if x.startswith("ntp_source")),
              end="")


def main():
    run_guest_tests([t_ntpdrs_starts, by("by_name"), by("by_ip"), t_ntpdrs_follows_ke_port,
                     t_ntpdrs_syncs_to_xntsd, t_ntpdrs_nts_pool_source],
                    Env, lambda env: (env.nr, env.srv), "ntpd-rs",
                    after=print_source_metrics)


if __name__ == "__main__":
    main()
