#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The AF_XDP path: with the plain XDP program attached (no xnts_siv module
on this kernel), NTS requests are redirected to xntsd's AF_XDP sockets and
answered there by the same ntp_serve() as the socket path. Clients are
xntsd and chronyd -x over a veth pair between two namespaces; counters
prove which path answered. Also NAKs and malformed requests, interface
down/up, re-creation and a daemon restart, and a differential check of the
AF_XDP path against the socket path on one list of requests."""

import os
import re
import socket
import struct
import threading
import time

from xnts import (CHRONYC, CHRONYD, Chronyd, Daemon, check, ef_list, ntp_fields,
                  ntp_request, run, run_with_pki)
from test_xdp import CLI_IF, SRV4, SRV6, SRV_IF, Net, socket_in

FAST = "poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n"
KE_PORT = 4460
SAN = "IP:%s,IP:%s" % (SRV4, SRV6)


def server_conf(net, pki, path="auto", extra=""):
    key, cert = pki.issue("afx", san=SAN)
    return ('[[server]]\nlisten = "[::]:123"\n'
            '[[nts-ke-server]]\nlisten = "[::]:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
            '[synchronization]\nlocal-stratum = 1\nreference-id = "XTST"\n'
            '[xdp]\ninterfaces = ["%s"]\nmode = "native"\npin-path = "%s"\n'
            'userspace-path = "%s"\n%s' % (KE_PORT, cert, key, SRV_IF, net.pin, path, extra))


def start(wd, net, name, config):
    return Daemon(wd, name, config, prefix=net.prefix())


def afx(d):
    return d.status()["af_xdp"]


def afx_counts(d):
    s = afx(d)["server"]
    return s if s else {}


def wait_active(d):
    return d.wait_for(lambda s: s["af_xdp"]["active"], "AF_XDP sockets up", timeout=10)


def nts_client(wd, net, pki, name="cli", addr=SRV4):
    return Daemon(wd, name, '[[source]]\nmode = "nts"\naddress = "%s:%d"\n'
                  'certificate-authority = "%s"\n%s' % (addr, KE_PORT, pki.ca, FAST),
                  prefix=net.prefix(net.cli))


def assoc(st):
    a = st["sources"][0]["associations"]
    return a[0] if a else {}


def nts_samples(cli, n, what):
    return cli.wait_for(lambda s: s["sources"][0]["authenticated"] and
                        assoc(s).get("received", 0) >= n, what, timeout=30)


def t_nts_answered_over_af_xdp(wd, pki):
    net = Net("afx")
    d = cli = c = None
    try:
        d = start(wd, net, "srv", server_conf(net, pki))
        st = wait_active(d)
        socks = st["af_xdp"]["server"]["sockets"]
        check(socks and all(s["interface"] == SRV_IF and s["mode"] == "copy"
                            for s in socks), "copy-mode sockets on the veth: %r" % socks)
        cli = nts_client(wd, net, pki)
        st = nts_samples(cli, 6, "NTS samples from xntsd's client")
        a = assoc(st)
        check(a["stratum"] == 1 and a["invalid"] == 0, "client association %r" % a)
        # chrony as a second NTS client, over IPv6.
        c = Chronyd(wd, "chr", "server %s iburst nts port 123 ntsport %d minpoll -2 "
                    "maxpoll -2\nntstrustedcerts %s\nport 0\n" % (SRV6, KE_PORT, pki.ca),
                    prefix=net.prefix(net.cli))
        end = time.time() + 30
        nd, rx = "", None
        while time.time() < end:
            nd = c.chronyc("ntpdata", SRV6)
            rx = re.search(r"^Total RX\s*:\s*(\d+)", nd, re.M)
            if rx and int(rx.group(1)) >= 3 and re.search(r"^Authenticated\s*:\s*Yes", nd,
                                                           re.M):
                break
            time.sleep(0.3)
        check(rx and int(rx.group(1)) >= 3 and
              re.search(r"^Authenticated\s*:\s*Yes", nd, re.M),
              "chrony's NTS responses:\n%s\n%s" % (nd, c.logtext()[-2000:]))
        srv = d.status()
        x = srv["af_xdp"]["server"]
        got = assoc(cli.status())["received"] + int(rx.group(1))
        check(x["nts"] >= got and x["sent"] >= x["nts"],
              "AF_XDP answered %d NTS (%d sent), clients got %d" % (x["nts"], x["sent"], got))
        check(x["meta_timestamps"] == x["received"], "receive times from XDP: %r" % x)
        xc = srv["xdp"]["counters"]
        check(xc["redirected_xsk"] >= x["received"] and xc["passed_nts"] >= x["received"],
              "XDP redirected %r" % xc)
        us = srv["ntp_servers"][0]
        check(us["nts"] == 0, "the socket path answered NTS: %r" % us)
        check(d.stop() == 0, "clean exit")
        d = None
    finally:
        for p in (c, cli, d):
            if p:
                p.stop()
        net.close()


def udp_query(sock, payload, addr, timeout=0.5):
    sock.settimeout(timeout)
    sock.sendto(payload, (addr, 123))
    try:
        while True:
            data, _ = sock.recvfrom(2048)
            if len(data) >= 48 and data[24:32] == payload[40:48]:
                return data
    except socket.timeout:
        return None


UID = struct.pack(">HH", 0x0104, 36) + b"u" * 32


def bogus_nts(cookie_len=100):
    """UID, a cookie under no key of ours, and an authenticator: a NAK."""
    return ntp_request(extra=UID + struct.pack(">HH", 0x0204, 4 + cookie_len) +
                       b"k" * cookie_len + struct.pack(">HH", 0x0404, 40) +
                       struct.pack(">HH", 16, 16) + b"n" * 16 + b"t" * 16)


MALFORMED = [
    # A UID without a cookie; a cookie field longer than the packet; NTS in mode 1.
    ntp_request(extra=UID),
    ntp_request(extra=UID + struct.pack(">HH", 0x0204, 200) + b"c" * 40),
    ntp_request(mode=1, extra=bogus_nts()[48:]),
    ntp_request(version=2, extra=bogus_nts()[48:]),
]


def t_nak_and_malformed(wd, pki):
    net = Net("afxbad")
    d = None
    try:
        d = start(wd, net, "srv", server_conf(net, pki))
        wait_active(d)
        s = socket_in(net.cli)
        r = udp_query(s, bogus_nts(), SRV4)
        check(r is not None, "NAK answered")
        f = ntp_fields(r)
        check(f["stratum"] == 0 and r[12:16] == b"NTSN", "NTSN kiss: %r" % f)
        check([t for t, _ in ef_list(r)] == [0x0104], "NAK carries only the UID: %r"
              % ef_list(r))
        check(len(r) <= len(bogus_nts()), "never longer than the request")
        for i, p in enumerate(MALFORMED):
            check(udp_query(s, p, SRV4, timeout=0.3) is None, "malformed #%d answered" % i)
        x = afx_counts(d)
        check(x["nak"] == 1 and x["drop_nts_malformed"] + x["drop_invalid"] >= len(MALFORMED),
              "AF_XDP counters %r" % x)
        check(d.status()["ntp_servers"][0]["received"] == 0, "sockets untouched")
        # Plain NTP stays in XDP.
        r = udp_query(s, ntp_request(), SRV4)
        check(r is not None and len(r) == 48, "plain answered")
        check(d.status()["xdp"]["counters"]["answered"] >= 1 and afx_counts(d)["plain"] == 0,
              "plain answered by XDP itself")
        s.close()
    finally:
        if d:
            d.stop()
        net.close()


def burst_of_naks(d, net, n):
    """n bogus NTS requests sent back to back; the NAKs that came back."""
    s = socket_in(net.cli)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    req = bogus_nts()
    for _ in range(n):
        s.sendto(req, (SRV4, 123))
    got = 0
    s.settimeout(2)
    try:
        while got < n:
            r, _ = s.recvfrom(2048)
            got += r[12:16] == b"NTSN"
    except socket.timeout:
        pass
    s.close()
    return got


def flood(net, stop):
    s = socket_in(net.cli)
    req = bogus_nts()
    while not stop.is_set():
        try:
            s.sendto(req, (SRV4, 123))
        except OSError:
            time.sleep(0.001)
    s.close()


def t_batch_wait(wd, pki):
    """[xdp] af-xdp-batch-wait-us: with a wait, a worker that sees frames
    close together sleeps to let the next batch gather, and still answers
    every request; with 0 it never does."""
    net = Net("afxwait")
    d = None
    n = 300
    try:
        for wait in (1000, 0):
            d = start(wd, net, "srv%d" % wait, server_conf(
                net, pki, extra="af-xdp-batch-wait-us = %d\n" % wait))
            st = wait_active(d)
            check(st["af_xdp"]["server"]["batch_wait_us"] == wait,
                  "status shows the wait: %r" % st["af_xdp"]["server"])
            got = burst_of_naks(d, net, n)
            x = afx_counts(d)
            check(got == n and x["nak"] == n, "wait %d: %d of %d NAKs back, %r"
                  % (wait, got, n, x))
            if wait:
                check(x["batch_waits"] >= 1 and x["batches"] < x["frames"],
                      "batches gathered: %r" % x)
            else:
                check(x["batch_waits"] == 0, "no wait configured, none taken: %r" % x)
            check(x["kicks"] >= 1 and x["kicks"] <= x["batches"] * 2,
                  "about one transmit kick per batch: %r" % x)
            # A worker whose ring never drains still stops: SIGTERM under a
            # flood (terminate() fails the test if it is ignored).
            stop = threading.Event()
            fl = threading.Thread(target=flood, args=(net, stop))
            fl.start()
            try:
                time.sleep(0.5)
                check(afx_counts(d)["frames"] > n, "the flood reaches the worker")
                check(d.stop() == 0, "clean exit under load")
            finally:
                stop.set()
                fl.join()
            d = None
    finally:
        if d:
            d.stop()
        net.close()


def t_link_flap_restart(wd, pki):
    net = Net("afxflap")
    d = cli = None
    try:
        conf = server_conf(net, pki)
        d = start(wd, net, "srv", conf)
        wait_active(d)
        cli = nts_client(wd, net, pki)
        nts_samples(cli, 3, "samples before the flap")
        run("ip", "-n", net.srv, "link", "set", SRV_IF, "down")
        time.sleep(0.5)
        run("ip", "-n", net.srv, "link", "set", SRV_IF, "up")
        n = assoc(cli.status())["received"]
        nts_samples(cli, n + 3, "samples after down/up")
        # A new interface of the same name: new sockets on the new ifindex.
        run("ip", "-n", net.srv, "link", "del", SRV_IF)
        net.make_veth()
        st = d.wait_for(lambda s: s["af_xdp"]["active"] and s["af_xdp"]["rebuilds"] >= 1,
                        "AF_XDP rebuilt on the new interface", timeout=15)
        before = st["af_xdp"]["server"]["nts"]
        n = assoc(cli.status())["received"]
        nts_samples(cli, n + 3, "samples after the interface was re-created")
        check(afx_counts(d)["nts"] >= before + 3, "answered over AF_XDP again")
        # A restart: the new daemon binds new sockets; the keys are new too,
        # so the client takes a NAK and redoes NTS-KE, then carries on.
        check(d.stop() == 0, "clean exit")
        d = start(wd, net, "srv2", conf)
        wait_active(d)
        n = assoc(cli.status())["received"]
        nts_samples(cli, n + 3, "samples after the restart")
        check(afx_counts(d)["nts"] >= 3, "the new daemon answers over AF_XDP")
    finally:
        for p in (cli, d):
            if p:
                p.stop()
        net.close()


def answer_shape(r):
    """What must agree between two paths: not the timestamps or the cookies."""
    if r is None:
        return None
    f = ntp_fields(r)
    return (len(r), r[0], f["stratum"], r[12:16] if f["stratum"] in (0, 1) else b"",
            r[24:32], tuple((t, len(b)) for t, b in ef_list(r)))


def t_differential(wd, pki):
    """One list of requests, to the AF_XDP path and to the socket path."""
    reqs = [bogus_nts(), bogus_nts(164)] + MALFORMED + [
        ntp_request(extra=UID + struct.pack(">HH", 0x0204, 104) + b"k" * 100),
        ntp_request(version=3, extra=bogus_nts()[48:]),
        ntp_request(extra=bogus_nts()[48:] + struct.pack(">HH", 0x0304, 104) + bytes(100)),
    ]
    shapes = {}
    for path in ("af-xdp", "socket"):
        net = Net("afxdiff")
        d = None
        try:
            d = start(wd, net, "srv-" + path, server_conf(net, pki, path=path))
            if path == "af-xdp":
                wait_active(d)
            else:
                check(not afx(d)["active"] and "socket" in afx(d)["reason"],
                      "socket path chosen: %r" % afx(d))
            s = socket_in(net.cli)
            shapes[path] = [answer_shape(udp_query(s, q, SRV4, timeout=0.3)) for q in reqs]
            s.close()
            used = afx_counts(d).get("received", 0) if path == "af-xdp" else \
                d.status()["ntp_servers"][0]["received"]
            check(used == len(reqs), "%s path took %d of %d: %r" % (path, used, len(reqs), d.status()))
        finally:
            if d:
                d.stop()
            net.close()
    for i, (a, b) in enumerate(zip(shapes["af-xdp"], shapes["socket"])):
        check(a == b, "request #%d: AF_XDP %r, sockets %r" % (i, a, b))
    check(any(shapes["socket"]), "some requests were answered")


if __name__ == "__main__":
    check(os.path.exists(CHRONYD) and os.path.exists(CHRONYC), "chrony unpacked")
    run_with_pki([t_nts_answered_over_af_xdp, t_nak_and_malformed, t_batch_wait,
                  t_link_flap_restart, t_differential])
