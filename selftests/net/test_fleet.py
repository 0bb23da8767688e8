#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""NTS for a fleet (issue 15): one key-exchange host and NTP-only hosts
that share a secret. Two network namespaces joined by a veth pair: the
"xdp" host alone in one, answering plain NTP in XDP and NTS over AF_XDP
(the module cannot load on this kernel); the KE host, the sockets-only
host "ntp2", the host "ntp1" that restarts mid-test, the clients and the
hosts of the negative cases in the other, each on an address of its own on
loopback. Clients of two kinds (xntsd and chronyd -x 4.3) each have one NTS
source per NTP host: NTS-KE at the KE host, NTP at the host its ntp-server
record names. (ntpd-rs as a client exits at start without CAP_SYS_TIME,
so its part of the fleet runs in the VM: selftests/vm/test_fleet_ntpdrs.py.)

Rotation boundaries pass with zero NAKs (the period is shortened by
configuration; no clock is changed), one NTP host restarts without a NAK,
a host with another secret NAKs, and a host whose clock is off by more
than a period (libfaketime on that daemon alone) reports it. Figures
printed as KTAP diagnostics: per client kind and host, the time from the
end of NTS-KE to the first authenticated answer, and the NAKs over the
rotation boundaries."""

import os
import re
import time

from xnts import (Chronyd, Daemon, Ktap, Pki, Workdir, check, run)
from test_xdp import SRV4, SRV_IF, Net, query, socket_in

NET = NS = PREFIX = None     # made by main()
IV = 5          # key-rotation-interval, s
STALE = 3       # cookies stay valid for 15-20 s: a jar of 8 at 1 s polls
HOSTS = {"ntp1": "10.77.0.2", "ntp2": "10.77.0.3", "bad": "10.77.0.4",
         "skew": "10.77.0.5", "xdp": SRV4}
FLEET = ("xdp", "ntp2", "ntp1")     # XDP + AF_XDP, sockets only, restarted
KINDS = ("xntsd", "chrony")
# One KE listener per client kind and NTP host, so that the KE host's
# per-listener counters tell when each client's key exchange ended.
KE_LISTENERS = [(k, h) for k in KINDS for h in FLEET] + [("xntsd", "bad"),
                                                         ("xntsd", "skew")]
KE_PORTS = {kh: 4460 + i for i, kh in enumerate(KE_LISTENERS)}
# chronyd keeps one source per address (seen: a second "server localhost"
# line adds none): three names for the KE host.
CHRONY_NAMES = {"xdp": "localhost", "ntp2": "127.0.0.1", "ntp1": "::1"}
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
FAST = "poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n"


def make_ns():
    # The veth pair as test_xdp.py makes it: XDP on the peer end (veth
    # delivers XDP_TX and AF_XDP frames only to a peer with a program) and
    # transmit checksum offload off there. Every other host's address on
    # the namespace's loopback (this kernel may have no dummy device): each
    # daemon binds its own.
    NET.make_veth()
    for n, a in HOSTS.items():
        if n != "xdp":
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
    for (kind, host) in KE_LISTENERS:
        c += ('[[nts-ke-server]]\nlisten = "[::]:%d"\ncertificate-chain-path = "%s"\n'
              'private-key-path = "%s"\nntp-server = "%s"\nntp-port = 123\n\n'
              % (KE_PORTS[(kind, host)], pki.cert, pki.key, HOSTS[host]))
    return Daemon(wd, "ke", c + keyset(sec), prefix=PREFIX)


def ntp_host(wd, name, sec, prefix=None):
    # No certificate, no [[nts-ke-server]]: only the shared keys.
    return Daemon(wd, name, '[[server]]\nlisten = "%s:123"\n\n%s\n[synchronization]\n'
                  'local-stratum = 1\n' % (HOSTS[name], keyset(sec)),
                  prefix=prefix or PREFIX)


def xdp_host(wd, sec):
    # Alone in its namespace, on the veth: plain NTP in XDP, NTS over AF_XDP.
    return Daemon(wd, "xdp", '[[server]]\nlisten = "0.0.0.0:123"\n\n%s\n'
                  '[synchronization]\nlocal-stratum = 1\n\n[xdp]\ninterfaces = ["%s"]\n'
                  'mode = "native"\npin-path = "%s"\nuserspace-path = "af-xdp"\n'
                  % (keyset(sec), SRV_IF, NET.pin), prefix=NET.prefix(NET.srv))


def xntsd_client(wd, name, pki, ke_ports):
    c = ""
    for port in ke_ports:
        c += ('[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
              'certificate-authority = "%s"\n%s\n' % (port, pki.ca, FAST))
    return Daemon(wd, name, c, prefix=PREFIX)


def assoc(st, i=0):
    a = st["sources"][i]["associations"]
    return a[0] if a else {}


def afx(st):
    return st["af_xdp"]["server"] or {}


def srv(st):
    return st["ntp_servers"][0]


def chrony_rows(ch, what):
    """chronyc -c authdata (name,mode,keyid,type,klen,last,atmp,nak,cook,clen)
    or sources (mode,state,address,stratum,poll,reach,...) as lists."""
    return [line.split(",") for line in ch.chronyc("-c", what).strip().splitlines()]


def first_answers(ke, cli, ch, timeout=45):
    """The time from the end of each client's NTS-KE to its first
    authenticated answer from the NTP host the KE named, per client kind and
    host, as bounds seen from outside: one loop polls the KE host's
    per-listener cookies_issued (the key exchange ended when it moved), the
    xntsd client's status (an authenticated association with a sample) and
    chronyc sources (a non-zero reach register: chrony counts only
    authenticated answers from an NTS source). An event first seen by a
    read happened after the start of the previous read of the same kind and
    before the end of this one: {(kind, host): (low ms, high ms)}, and the
    number of requests chronyd had sent to each host when its first answer
    was seen."""
    prev = {"ke": None, "xntsd": None, "chrony": None}
    ke_end, ans, sent = {}, {}, {}
    end = time.time() + timeout

    def read(what, fn):
        t0 = time.time()
        v = fn()
        lo = prev[what] if prev[what] is not None else t0
        prev[what] = t0
        return v, lo, time.time()

    def read_ke():
        kes, lo, hi = read("ke", lambda: ke.status()["nts_ke_servers"])
        for i, kh in enumerate(KE_LISTENERS):
            if kh not in ke_end and kes[i]["cookies_issued"] > 0:
                ke_end[kh] = (lo, hi)

    def answered(kh, lo, hi):
        # The exchange may have ended after this round's read of the KE
        # host: read it again, now that an answer shows it has.
        if kh not in ke_end:
            read_ke()
        check(kh in ke_end, "an answer before the key exchange ended: %r" % (kh,))
        ans[kh] = (lo, hi)

    while time.time() < end and len(ans) < len(KINDS) * len(FLEET):
        read_ke()
        st, lo, hi = read("xntsd", cli.status)
        for i, h in enumerate(FLEET):
            if (("xntsd", h) not in ans and st["sources"][i]["authenticated"] and
                    assoc(st, i).get("received", 0) >= 1):
                answered(("xntsd", h), lo, hi)
        rows, lo, hi = read("chrony", lambda: chrony_rows(ch, "sources"))
        for row in rows:
            for h in FLEET:
                if (("chrony", h) not in ans and row[2] == HOSTS[h] and
                        int(row[5], 8) != 0):
                    answered(("chrony", h), lo, hi)
                    # Where the time went: chrony's requests sent by then.
                    nd = ch.chronyc("ntpdata", HOSTS[h])
                    tx = re.search(r"^Total TX\s*:\s*(\d+)", nd, re.M)
                    sent[h] = int(tx.group(1)) if tx else -1
        time.sleep(0.02)
    check(len(ans) == len(KINDS) * len(FLEET),
          "authenticated answers from every host, seen for %r\nchronyc sources:\n%s"
          % (sorted(ans), ch.chronyc("sources")))
    return {kh: (max(0.0, ans[kh][0] - ke_end[kh][1]) * 1000,
                 (ans[kh][1] - ke_end[kh][0]) * 1000) for kh in ans}, sent


def ke_to_first_answer_ms(log):
    """From the client's log: the first NTS-KE done line to the first sample."""
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

        hosts["xdp"] = xdp_host(wd, sec)
        procs.append(hosts["xdp"])
        sx = hosts["xdp"].wait_for(lambda s: s["af_xdp"]["active"], "AF_XDP sockets up",
                                   timeout=20)
        check(sx["keyset"]["fingerprint"] == fp["ke"] and sx["xdp"]["loaded"] and
              sx["xdp"].get("variant") == "plain", "XDP host of the fleet: %r %r"
              % (sx["keyset"], sx["xdp"].get("variant")))

        # Each client kind: one NTS source per NTP host, all through the KE host.
        cli = xntsd_client(wd, "cli", pki, [KE_PORTS[("xntsd", h)] for h in FLEET])
        procs.append(cli)
        ch = Chronyd(wd, "chrony", "".join(
            "server %s iburst nts ntsport %d minpoll 0 maxpoll 0\n"
            % (CHRONY_NAMES[h], KE_PORTS[("chrony", h)]) for h in FLEET) +
            "ntstrustedcerts %s\nport 0\n" % pki.ca, prefix=PREFIX)
        procs.append(ch)
        ms, sent = first_answers(ke, cli, ch)
        for kind in KINDS:
            print("# figure: NTS-KE end to first authenticated answer from another host, "
                  "%s client (bounds from polling the KE host and the client): %s"
                  % (kind, ", ".join("%s %.0f-%.0f ms" % ((h,) + ms[(kind, h)])
                                     for h in FLEET)))
        print("# chronyd's requests sent to each host by its first answer: %r" % sent)
        print("# figure: the same from the xntsd client's log (first KE, first "
              "sample): %.0f ms" % ke_to_first_answer_ms(cli.logtext()))
        st = cli.wait_for(lambda s: all(assoc(s, i).get("received", 0) >= 3
                                        for i in range(len(FLEET))), "first samples",
                          timeout=30)
        check([src["nts_ke"]["ntp_server"] for src in st["sources"]] ==
              [HOSTS[h] for h in FLEET], "NTP at the hosts the KE named: %r"
              % [src["nts_ke"] for src in st["sources"]])

        # Plain NTP at the XDP host is answered by the program itself.
        before = hosts["xdp"].status()
        s4 = socket_in(NS)
        for k in range(10):
            r = query(s4, SRV4, timeout=5)
            check(r is not None and r["len"] == 48 and r["stratum"] == 1,
                  "plain answer from the XDP host: %r" % r)
        s4.close()
        after = hosts["xdp"].status()
        check(after["xdp"]["counters"]["answered"] - before["xdp"]["counters"]["answered"]
              >= 10 and afx(after).get("plain", 0) == 0 and srv(after)["received"] == 0,
              "plain NTP answered in XDP: %r, AF_XDP %r" % (after["xdp"]["counters"],
                                                            afx(after)))

        # Three rotation boundaries, then restart ntp1, then two more.
        p0 = hosts["ntp1"].status()["keyset"]["period"]
        hosts["ntp1"].wait_for(lambda s: s["keyset"]["period"] >= p0 + 3, "3 boundaries",
                               timeout=4 * IV + 5)
        n = assoc(cli.status(), FLEET.index("ntp1"))["received"]
        nak_before = srv(hosts["ntp1"].status())["nak"]
        hosts["ntp1"].stop()
        time.sleep(1.5)
        hosts["ntp1"] = ntp_host(wd, "ntp1", sec)
        procs.append(hosts["ntp1"])
        p1 = hosts["ntp1"].status()["keyset"]["period"]
        hosts["ntp1"].wait_for(lambda s: s["keyset"]["period"] >= p1 + 2, "2 boundaries",
                               timeout=3 * IV + 5)
        st = cli.wait_for(lambda s: assoc(s, FLEET.index("ntp1"))["received"] >= n + 5,
                          "samples after restart", timeout=20)
        auth = chrony_rows(ch, "authdata")
        sx = hosts["xdp"].status()
        naks = {"xntsd client": sum(assoc(st, i)["naks"] for i in range(len(FLEET))),
                "chronyd": sum(int(r[7]) for r in auth) if auth else -1,
                "xdp (AF_XDP)": afx(sx)["nak"], "xdp (sockets)": srv(sx)["nak"],
                "ntp1": nak_before, "ntp1 (restarted)": srv(hosts["ntp1"].status())["nak"],
                "ntp2": srv(hosts["ntp2"].status())["nak"]}
        print("# figure: NAKs over %d rotation boundaries and a restart, per client kind "
              "and host: %r" % (p1 + 2 - p0, naks))
        check(set(naks.values()) == {0}, "no NAK across rotations: %r\nntp1: %r\nclient log:\n%s"
              % (naks, hosts["ntp1"].status(), cli.logtext()[-4000:]))
        for i, h in enumerate(FLEET):
            src = st["sources"][i]
            check(src["nts_ke"]["ok"] == 1, "one key exchange for the whole run: %s %r"
                  % (h, src["nts_ke"]))
            check(assoc(st, i)["received"] >= 15 and src["authenticated"],
                  "authenticated samples throughout from %s: %r" % (h, assoc(st, i)))
        check(len(auth) == len(FLEET) and all(r[1] == "NTS" and int(r[8]) >= 1 for r in auth),
              "chronyd NTS with cookies: %r" % auth)
        kes = ke.status()["nts_ke_servers"]
        hs = {kh: kes[i]["handshakes_ok"] for i, kh in enumerate(KE_LISTENERS)
              if kh[1] in FLEET}
        check(set(hs.values()) == {1}, "one key exchange per client and host: %r" % hs)
        rows = {r[2]: r for r in chrony_rows(ch, "sources")}
        check(all(int(rows[HOSTS[h]][5], 8) != 0 for h in FLEET),
              "chronyd reaches every host: %r" % rows)
        s2 = hosts["ntp2"].status()
        check(srv(s2)["nts"] >= 20 and s2["keyset"]["cookies"]["unknown"] == 0,
              "both clients served over NTS by ntp2: %r" % srv(s2))
        # NTS at the XDP host went over AF_XDP, none up the sockets.
        x = afx(sx)
        got = assoc(st, FLEET.index("xdp"))["received"]
        check(x["nts"] >= got + 10 and srv(sx)["nts"] == 0 and
              sx["xdp"]["counters"]["redirected_xsk"] >= x["received"],
              "NTS over AF_XDP: %d answered, xntsd client got %d; sockets %r; XDP %r"
              % (x["nts"], got, srv(sx), sx["xdp"]["counters"]))
        print("# xdp host: XDP %r; AF_XDP %r" % (sx["xdp"]["counters"], x))

        # Another secret: the cookies do not open there, and it says so.
        bad_cli = xntsd_client(wd, "badcli", pki, [KE_PORTS[("xntsd", "bad")]])
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
        skew_cli = xntsd_client(wd, "skewcli", pki, [KE_PORTS[("xntsd", "skew")]])
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
    global NET, NS, PREFIX
    k = Ktap(1)
    with Workdir() as wd:
        pki = Pki(wd)
        NET = Net("fleet", veth=False)
        NS = NET.cli
        PREFIX = NET.prefix(NS)
        try:
            make_ns()
            with Workdir() as twd:
                k.case("fleet", t_fleet, twd, pki)
        finally:
            NET.close()
    k.finish()


if __name__ == "__main__":
    main()
