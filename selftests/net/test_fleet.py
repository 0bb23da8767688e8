#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""NTS for a fleet (issue 15): one key-exchange host and several NTP-only
hosts that share a secret, in a network namespace of their own. Clients
(xntsd and chronyd -x 4.3) do NTS-KE at the KE host and NTP at the host its
ntp-server record names. Rotation boundaries pass with zero NAKs (the period
is shortened by configuration; no clock is changed), one NTP host restarts
without a NAK, a host with another secret NAKs, and a host whose clock is
off by more than a period (libfaketime on that daemon alone) reports it."""

import os
import re
import subprocess
import time

from xnts import (Chronyd, Daemon, Ktap, Pki, Workdir, check, run)

NS = "xnts-fleet-%d" % os.getpid()
PREFIX = ("nsenter", "--net=/run/netns/" + NS)
IV = 5          # key-rotation-interval, s
STALE = 3       # cookies stay valid for 15-20 s: a jar of 8 at 1 s polls
HOSTS = {"ntp1": "10.77.0.2", "ntp2": "10.77.0.3", "bad": "10.77.0.4",
         "skew": "10.77.0.5"}
KE_PORTS = {"ntp1": 4460, "ntp2": 4461, "bad": 4462, "skew": 4463}
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
FAST = "poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n"


def make_ns():
    # Every host's address on the namespace's loopback (this kernel may have
    # no dummy device): each daemon binds its own.
    run("ip", "netns", "add", NS)
    run("ip", "-n", NS, "link", "set", "lo", "up")
    for a in HOSTS.values():
        run("ip", "-n", NS, "addr", "add", a + "/32", "dev", "lo")


def secret(wd, name):
    p = os.path.join(wd, name)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    return p


def keyset(path):
    return ('[keyset]\nshared-secret-path = "%s"\nkey-rotation-interval = %d\n'
            'stale-key-count = %d\n' % (path, IV, STALE))


def ke_host(wd, pki, sec):
    c = ""
    for host, port in KE_PORTS.items():
        c += ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
              'private-key-path = "%s"\nntp-server = "%s"\nntp-port = 123\n\n'
              % (port, pki.cert, pki.key, HOSTS[host]))
    return Daemon(wd, "ke", c + keyset(sec), prefix=PREFIX)


def ntp_host(wd, name, sec, prefix=PREFIX):
    # No certificate, no [[nts-ke-server]]: only the shared keys.
    return Daemon(wd, name, '[[server]]\nlisten = "%s:123"\n\n%s\n[synchronization]\n'
                  'local-stratum = 1\n' % (HOSTS[name], keyset(sec)), prefix=prefix)


def xntsd_client(wd, name, pki, ke_port):
    return Daemon(wd, name, '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                  'certificate-authority = "%s"\n%s' % (ke_port, pki.ca, FAST),
                  prefix=PREFIX)


def assoc(st):
    a = st["sources"][0]["associations"]
    return a[0] if a else {}


def srv(st):
    return st["ntp_servers"][0]


def chrony_auth(ch):
    """chronyc authdata: name,mode,keyid,type,klen,last,atmp,nak,cook,clen."""
    lines = ch.chronyc("-c", "authdata").strip().splitlines()
    return lines[0].split(",") if lines else []


def ke_to_first_answer_ms(log):
    """From the client's log: the NTS-KE done line to the first sample."""
    def ms(line):
        h, m, s = line.split()[0].split(":")
        return (int(h) * 3600 + int(m) * 60 + float(s)) * 1000
    lines = log.splitlines()
    ke = [i for i, l in enumerate(lines) if "NTS-KE done" in l]
    check(ke, "no NTS-KE in the client log")
    sample = [l for l in lines[ke[0]:] if re.search(r"\): offset [-+]", l)]
    check(sample, "no sample after NTS-KE in the client log")
    return ms(sample[0]) - ms(lines[ke[0]])


def t_fleet(wd, pki):
    sec = secret(wd, "fleet.secret")
    other = secret(wd, "other.secret")
    procs = []
    try:
        ke = ke_host(wd, pki, sec)
        procs.append(ke)
        hosts = {n: ntp_host(wd, n, sec) for n in ("ntp1", "ntp2")}
        hosts["bad"] = ntp_host(wd, "bad", other)
        # Three periods ahead; monotonic clocks (timers, CLOCK_BOOTTIME) left alone.
        # An ASan daemon (make SANITIZE=1) wants its runtime first; libfaketime
        # only wraps time calls, so the order does not matter here.
        env_prefix = ("env", "LD_PRELOAD=" + FAKETIME, "FAKETIME=+%d" % (3 * IV),
                      "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_DONT_RESET=1",
                      "ASAN_OPTIONS=verify_asan_link_order=0")
        hosts["skew"] = ntp_host(wd, "skew", sec, prefix=PREFIX + env_prefix)
        procs += hosts.values()

        # Hosts sharing a secret show one fingerprint, and only that.
        fp = {n: d.status()["keyset"]["fingerprint"] for n, d in hosts.items()}
        fp["ke"] = ke.status()["keyset"]["fingerprint"]
        check(fp["ke"] == fp["ntp1"] == fp["ntp2"] == fp["skew"] != fp["bad"],
              "fingerprints %r" % fp)
        check(open(sec, "rb").read().hex()[:16] not in repr(fp), "fingerprint is no secret")
        check(ke.status()["ntp_servers"] == [] and hosts["ntp1"].status()["nts_ke_servers"]
              == [], "KE-only and NTP-only hosts")

        cli = xntsd_client(wd, "cli", pki, KE_PORTS["ntp1"])
        procs.append(cli)
        ch = Chronyd(wd, "chrony", "server localhost iburst nts ntsport %d minpoll 0 "
                     "maxpoll 0\nntstrustedcerts %s\nport 0\n" % (KE_PORTS["ntp2"], pki.ca),
                     prefix=PREFIX)
        procs.append(ch)
        st = cli.wait_for(lambda s: assoc(s).get("received", 0) >= 3, "first samples",
                          timeout=30)
        check(st["sources"][0]["nts_ke"]["ntp_server"] == HOSTS["ntp1"],
              "NTP at the host the KE named: %r" % st["sources"][0]["nts_ke"])
        print("# figure: NTS-KE done to first authenticated answer from another host: "
              "%.0f ms (xntsd client, poll 1 s)" % ke_to_first_answer_ms(cli.logtext()))

        # Three rotation boundaries, then restart ntp1, then two more.
        p0 = hosts["ntp1"].status()["keyset"]["period"]
        hosts["ntp1"].wait_for(lambda s: s["keyset"]["period"] >= p0 + 3, "3 boundaries",
                               timeout=4 * IV + 5)
        n = assoc(cli.status())["received"]
        nak_before = srv(hosts["ntp1"].status())["nak"]
        hosts["ntp1"].stop()
        time.sleep(1.5)
        hosts["ntp1"] = ntp_host(wd, "ntp1", sec)
        procs.append(hosts["ntp1"])
        p1 = hosts["ntp1"].status()["keyset"]["period"]
        hosts["ntp1"].wait_for(lambda s: s["keyset"]["period"] >= p1 + 2, "2 boundaries",
                               timeout=3 * IV + 5)
        st = cli.wait_for(lambda s: assoc(s)["received"] >= n + 5, "samples after restart",
                          timeout=20)
        a = assoc(st)
        auth = chrony_auth(ch)
        naks = {"xntsd client": a["naks"], "chronyd": int(auth[7]) if auth else -1,
                "ntp1": nak_before, "ntp1 (restarted)": srv(hosts["ntp1"].status())["nak"],
                "ntp2": srv(hosts["ntp2"].status())["nak"]}
        print("# figure: NAKs over %d rotation boundaries and a restart: %r"
              % (p1 + 2 - p0, naks))
        check(set(naks.values()) == {0}, "no NAK across rotations: %r\nntp1: %r\nclient log:\n%s"
              % (naks, hosts["ntp1"].status(), cli.logtext()[-4000:]))
        check(st["sources"][0]["nts_ke"]["ok"] == 1, "one key exchange for the whole run")
        check(a["received"] >= 15 and st["sources"][0]["authenticated"],
              "authenticated samples throughout: %r" % a)
        check(auth and auth[1] == "NTS" and int(auth[8]) >= 1,
              "chronyd NTS with cookies: %r" % auth)
        s2 = hosts["ntp2"].status()
        check(srv(s2)["nts"] >= 10 and s2["keyset"]["cookies"]["unknown"] == 0,
              "chronyd served over NTS by ntp2: %r" % srv(s2))

        # Another secret: the cookies do not open there, and it says so.
        bad_cli = xntsd_client(wd, "badcli", pki, KE_PORTS["bad"])
        procs.append(bad_cli)
        sb = hosts["bad"].wait_for(lambda s: srv(s)["nak"] >= 1, "NAK from the other secret",
                                   timeout=20)
        check(sb["keyset"]["cookies"]["unknown"] >= 1 and srv(sb)["nts"] == 0,
              "unknown-key cookies counted: %r" % sb["keyset"]["cookies"])
        bad_cli.wait_for(lambda s: assoc(s).get("naks", 0) >= 1, "client saw the NAK")

        # Secret rotation: that host now has its own secret as the current one
        # and the fleet's as the previous: fleet cookies open there, but what
        # it seals is under its own, until the grace is over.
        hosts["bad"].stop()
        hosts["bad"] = Daemon(wd, "bad", '[[server]]\nlisten = "%s:123"\n\n%s'
                              'previous-shared-secret-path = "%s"\n'
                              'previous-shared-secret-grace = %d\n\n[synchronization]\n'
                              'local-stratum = 1\n' % (HOSTS["bad"], keyset(other), sec,
                                                       2 * IV), prefix=PREFIX)
        procs.append(hosts["bad"])
        sb = hosts["bad"].status()["keyset"]
        check(sb["previous_fingerprint"] == fp["ke"] and sb["fingerprint"] == fp["bad"] and
              sb["previous_accepted"] and sb["keys"][0]["role"] == "current" and
              any(k["role"] == "previous-secret" for k in sb["keys"]),
              "previous secret accepted, never current: %r" % sb)
        n = assoc(bad_cli.status())["received"]
        sb = hosts["bad"].wait_for(lambda s: s["keyset"]["cookies"]["previous_secret"] >= 1 and
                                   srv(s)["nts"] >= 2, "fleet cookies open there", timeout=20)
        bad_cli.wait_for(lambda s: assoc(s)["received"] >= n + 2, "answers again")
        hosts["bad"].wait_for(lambda s: not s["keyset"]["previous_accepted"] and
                              all(k["role"] != "previous-secret" for k in s["keyset"]["keys"]),
                              "grace over", timeout=4 * IV)

        # A clock three periods ahead sees every cookie from periods far behind.
        skew_cli = xntsd_client(wd, "skewcli", pki, KE_PORTS["skew"])
        procs.append(skew_cli)
        ss = hosts["skew"].wait_for(lambda s: s["keyset"]["cookies"]["far"] >= 1,
                                    "far-period report", timeout=20)
        c = ss["keyset"]["cookies"]
        check(c["last_far_offset"] <= -2, "offset in periods: %r" % c)
        check(ss["keyset"]["period"] - hosts["ntp2"].status()["keyset"]["period"] >= 2,
              "libfaketime moved only that daemon's clock")
        out = hosts["skew"].ctl("status")
        check("far from ours" in out, "plain status tells it:\n" + out)
        prom = hosts["skew"].ctl("status", "-f", "prometheus")
        m = re.search(r"^xnts_keyset_far_period_cookies_total (\d+)", prom, re.M)
        check(m and int(m.group(1)) >= 1, "Prometheus has it:\n" + prom)
        print("# skew host: %r" % c)
    finally:
        for p in reversed(procs):
            p.stop()


def main():
    k = Ktap(1)
    with Workdir() as wd:
        pki = Pki(wd)
        try:
            make_ns()
            with Workdir() as twd:
                k.case("fleet", t_fleet, twd, pki)
        finally:
            subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    k.finish()


if __name__ == "__main__":
    main()
