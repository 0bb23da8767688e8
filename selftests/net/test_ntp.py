#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""NTP and NTS-protected NTP between xntsd's userspace server and client on
loopback: samples, the cookie jar, key rotation, access policy, malformed
requests, and a man in the middle that tampers with, replays and forges
responses."""

import os
import socket
import struct
import time

from xnts import (run_with_pki, Daemon, UdpProxy, check, ef_list, free_port,
                  ntp_fields, ntp_query, ntp_request)


def server_conf(pki, ntp_port, ke_port, extra="", ke_extra="", sync="local-stratum = 1\n"):
    return ('[[server]]\nlisten = "127.0.0.1:%d"\n%s\n'
            '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n%s\n'
            '[synchronization]\n%s' % (ntp_port, extra, ke_port, pki.cert, pki.key,
                                       ke_extra, sync))


FAST = "poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n"


def nts_client(wd, name, pki, ke_port, extra=""):
    return Daemon(wd, name, '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                  'certificate-authority = "%s"\n%s%s' % (ke_port, pki.ca, FAST, extra))


def assoc(st, i=0):
    a = st["sources"][i]["associations"]
    return a[0] if a else {}


def t_samples(wd, pki):
    ntp, ke = free_port(), free_port()
    srv = Daemon(wd, "srv", server_conf(pki, ntp, ke, ke_extra="ntp-port = %d\n" % ntp))
    cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                 'certificate-authority = "%s"\n%s\n[[source]]\nmode = "server"\n'
                 'address = "127.0.0.1:%d"\n%s\n[synchronization]\n'
                 'minimum-agreeing-sources = 1\n' % (ke, pki.ca, FAST, ntp, FAST))
    try:
        # Beyond 8 polls the jar must have been refilled from responses.
        st = cli.wait_for(lambda s: assoc(s, 0).get("received", 0) >= 12 and
                          assoc(s, 1).get("received", 0) >= 3 and s["sync"]["synced"],
                          "samples", timeout=30)
        for i in (0, 1):
            a = assoc(st, i)
            check(a["delay"] >= 0 and a["stratum"] == 1 and a["invalid"] == 0,
                  "source %d: %r" % (i, a))
        # One sample may wait on a busy machine; the filtered estimate may not.
        check(abs(st["sync"]["offset"]) < 0.01 and st["sync"]["stratum"] == 2,
              "loopback offset after filtering: %r" % st["sync"])
        nts = st["sources"][0]
        check(nts["authenticated"] and nts["nts_ke"]["ok"] == 1,
              "one key exchange served all polls: %r" % nts["nts_ke"])
        check(nts["nts_ke"]["cookies"] >= 7, "jar kept full: %r" % nts["nts_ke"])
        ss = srv.status()["ntp_servers"][0]
        check(ss["nts"] >= 12 and ss["plain"] >= 3, "server counters %r" % ss)
        out = cli.ctl("status")
        check("NTS-authenticated" in out and "offset" in out, "plain status:\n" + out)
    finally:
        cli.stop()
        srv.stop()


def t_rotation_nak(wd, pki):
    # With no stale keys and a 2 s rotation, cookies die quickly: the server
    # must NAK them and the client must recover with a new key exchange.
    ntp, ke = free_port(), free_port()
    srv = Daemon(wd, "srv", server_conf(pki, ntp, ke, ke_extra="ntp-port = %d\n" % ntp)
                 + "\n[keyset]\nstale-key-count = 0\nkey-rotation-interval = 2\n")
    cli = nts_client(wd, "cli", pki, ke)
    try:
        st = cli.wait_for(lambda s: assoc(s).get("naks", 0) >= 1 and
                          s["sources"][0]["nts_ke"]["ok"] >= 2, "NAK and new KE",
                          timeout=30)
        n = assoc(st)["received"]
        cli.wait_for(lambda s: assoc(s)["received"] > n, "samples after the NAK")
        check(srv.status()["ntp_servers"][0]["nak"] >= 1, "server sent a NAK")
    finally:
        cli.stop()
        srv.stop()


def nak_for(req):
    uid = [b for t, b in ef_list(req) if t == 0x0104][0]
    h = bytearray(48)
    h[0] = (3 << 6) | (4 << 3) | 4
    h[12:16] = b"NTSN"
    h[24:32] = req[40:48]
    return bytes(h) + struct.pack(">HH", 0x0104, 4 + len(uid)) + uid


def t_mitm(wd, pki):
    ntp, ke = free_port(), free_port()
    proxy = UdpProxy(ntp)
    srv = Daemon(wd, "srv", server_conf(pki, ntp, ke, ke_extra='ntp-server = "127.0.0.1"\n'
                                        'ntp-port = %d\n' % proxy.port))
    cli = nts_client(wd, "cli", pki, ke)
    state = {"last": None}

    def flip(req, resp):
        return resp[:-5] + bytes([resp[-5] ^ 0x40]) + resp[-4:]

    def replay(req, resp):
        old, state["last"] = state["last"], resp
        return old if old else resp

    def wrong_uid(req, resp):
        b = bytearray(resp)
        b[52] ^= 0xff  # first byte of the echoed Unique Identifier
        return bytes(b)

    try:
        cli.wait_for(lambda s: assoc(s).get("received", 0) >= 2, "first samples")
        # Lost responses: the jar runs low, requests carry placeholders, and the
        # responses bring several cookies each - all of which must open later.
        drops = {"n": 0}

        def drop(req, resp):
            drops["n"] += 1
            return None if drops["n"] <= 4 else resp
        before = assoc(cli.status())
        proxy.mangle = drop
        cli.wait_for(lambda s: assoc(s)["received"] >= before["received"] + 12,
                     "samples after losses", timeout=30)
        st = cli.status()
        check(assoc(st)["naks"] == 0 and st["sources"][0]["nts_ke"]["ok"] == 1,
              "cookies from multi-cookie responses opened: %r" % assoc(st))
        check(assoc(st)["lost"] >= 4, "losses counted: %r" % assoc(st))
        proxy.mangle = None
        for name, fn, key in (("flip", flip, "invalid"), ("replay", replay, "invalid"),
                              ("uid", wrong_uid, "invalid"),
                              ("nak", lambda q, r: nak_for(q), "naks")):
            before = assoc(cli.status())
            proxy.mangle = fn
            cli.wait_for(lambda s: assoc(s)[key] >= before[key] + 2,
                         "%s responses refused" % name, timeout=20)
            mid = assoc(cli.status())
            check(mid["received"] <= before["received"] + (1 if name == "replay" else 0),
                  "%s: nothing accepted while mangled: %r -> %r" % (name, before, mid))
            proxy.mangle = None
            cli.wait_for(lambda s: assoc(s)["received"] >= mid["received"] + 2,
                         "recovery after %s" % name, timeout=20)
        st = cli.status()
        check(st["sources"][0]["nts_ke"]["ok"] >= 2, "NAK led to a new key exchange")
        # A forged NAK ahead of the real response (RFC 8915 section 5.7): the
        # cookies are kept, the real response counts, and no key exchange
        # follows, however many NAKs come.
        before = assoc(st)
        kes = st["sources"][0]["nts_ke"]["ok"]
        proxy.mangle = lambda q, r: [nak_for(q), r]
        cli.wait_for(lambda s: assoc(s)["naks"] >= before["naks"] + 3 and
                     assoc(s)["received"] >= before["received"] + 3,
                     "forged NAKs beside real responses", timeout=30)
        proxy.mangle = None
        st = cli.status()
        check(st["sources"][0]["nts_ke"]["ok"] == kes,
              "a forged NAK started a key exchange: %r" % st["sources"][0]["nts_ke"])
        check("keeping the cookies" in cli.logtext(), "the NAK is logged")
    finally:
        cli.stop()
        srv.stop()
        proxy.stop()


def t_policy(wd, pki):
    ports = [free_port(UDP) for UDP in (2, 2, 2, 2)]
    conf = ('[[server]]\nlisten = "127.0.0.1:%d"\nrequire-nts = "deny"\n\n'
            '[[server]]\nlisten = "127.0.0.1:%d"\nrate-limiting-cache-size = 100\n'
            'rate-limiting-cutoff-ms = 400\n\n'
            '[[server]]\nlisten = "127.0.0.1:%d"\n'
            'denylist = { filter = ["127.0.0.0/8"], action = "ignore" }\n\n'
            '[[server]]\nlisten = "127.0.0.1:%d"\naccept-ntp-versions = [4]\n'
            'allowlist = { filter = ["10.0.0.0/8"], action = "deny" }\n\n'
            '[synchronization]\nlocal-stratum = 2\nreference-id = "TEST"\n' % tuple(ports))
    d = Daemon(wd, "pol", conf)
    try:
        r = ntp_fields(ntp_query(ports[0], ntp_request()))
        check(r["stratum"] == 0 and r["refid"] == b"DENY", "require-nts deny: %r" % r)
        r = ntp_fields(ntp_query(ports[1], ntp_request()))
        check(r["stratum"] == 2 and r["refid"] == b"TEST" and r["mode"] == 4, "first %r" % r)
        r = ntp_fields(ntp_query(ports[1], ntp_request()))
        check(r["refid"] == b"RATE" and r["stratum"] == 0 and r["leap"] == 3, "rate %r" % r)
        time.sleep(0.5)
        r = ntp_fields(ntp_query(ports[1], ntp_request(version=3)))
        check(r["refid"] == b"TEST" and r["version"] == 3, "after the cutoff, v3: %r" % r)
        check(ntp_query(ports[2], ntp_request(), timeout=0.5) is None, "denylist ignore")
        r = ntp_fields(ntp_query(ports[3], ntp_request()))
        check(r["refid"] == b"DENY", "not on the allowlist: %r" % r)
        st = d.status()["ntp_servers"]
        check(st[1]["rate_limited"] == 1 and st[2]["ignored"] == 1, "counters %r" % st)
    finally:
        d.stop()


def t_malformed(wd, pki):
    port = free_port(2)
    d = Daemon(wd, "mal", '[[server]]\nlisten = "127.0.0.1:%d"\naccept-ntp-versions = [3, 4]\n'
               '[synchronization]\nlocal-stratum = 1\n' % port)
    bad = [b"", b"\x23" * 10, ntp_request()[:47], ntp_request(mode=4), ntp_request(mode=1),
           ntp_request(mode=6), ntp_request(version=1), ntp_request(version=2),
           ntp_request(version=5), ntp_request(version=7),
           # A legacy MAC (key id + MD5) is not ours to answer.
           ntp_request(extra=b"\0\0\0\1" + b"m" * 16),
           # NTS fields that do not parse: a UID without a cookie, a truncated field.
           ntp_request(extra=struct.pack(">HH", 0x0104, 36) + b"u" * 32),
           ntp_request(extra=struct.pack(">HH", 0x0204, 200) + b"c" * 40),
           # Any NTS field in a request that is not NTS: never a plain answer.
           ntp_request(extra=struct.pack(">HH", 0x0204, 104) + b"k" * 100),
           ntp_request(extra=struct.pack(">HH", 0x0304, 104) + b"\0" * 100),
           ntp_request(extra=struct.pack(">HH", 0x0404, 40) + struct.pack(">HH", 16, 16) +
                       b"n" * 16 + b"t" * 16),
           ntp_request(extra=struct.pack(">HH", 0x2005, 16) + b"x" * 12 +
                       struct.pack(">HH", 0x0104, 36) + b"u" * 32 +
                       struct.pack(">HH", 0x0404, 40) + struct.pack(">HH", 16, 16) +
                       b"n" * 16 + b"t" * 16),
           # NTPv3 has no extension fields.
           ntp_request(version=3, extra=struct.pack(">HH", 0x2005, 28) + b"x" * 24)]
    try:
        for i, p in enumerate(bad):
            check(ntp_query(port, p, timeout=0.3) is None, "malformed #%d answered" % i)
        r = ntp_query(port, ntp_request())
        check(r is not None and len(r) == 48, "still answering good requests")
        # A cookie under no key of ours, from a server without NTS: no answer.
        cookie = struct.pack(">HH", 0x0104, 36) + b"u" * 32 + \
            struct.pack(">HH", 0x0204, 104) + b"k" * 100 + \
            struct.pack(">HH", 0x0404, 40) + struct.pack(">HH", 16, 16) + b"n" * 16 + b"t" * 16
        check(ntp_query(port, ntp_request(extra=cookie), timeout=0.3) is None,
              "NTS without a keyset answered")
        st = d.status()["ntp_servers"][0]
        check(st["drop_invalid"] >= 11 and st["drop_nts_malformed"] >= 6 and
              st["plain"] == 1, "counters %r" % st)
    finally:
        d.stop()


def t_pool(wd, pki):
    # A name with three addresses, seen only by the client: it runs in its
    # own mount namespace with its own /etc/hosts.
    port = free_port(2)
    hosts = os.path.join(wd, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 pool.xnts.test\n127.0.0.2 pool.xnts.test\n"
                "::1 pool.xnts.test\n")
    prefix = ("unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts)
    srv = Daemon(wd, "srv", '[[server]]\nlisten = "[::]:%d"\n[synchronization]\n'
                 'local-stratum = 3\n' % port)
    try:
        for name, extra, want in (("all", "", 3), ("ign", 'ignore = ["127.0.0.2"]\n', 2)):
            cli = Daemon(wd, name, '[[source]]\nmode = "pool"\n'
                         'address = "pool.xnts.test:%d"\ncount = 4\n%s%s'
                         % (port, extra, FAST), prefix=prefix)
            try:
                st = cli.wait_for(lambda s: len(s["sources"][0]["associations"]) == want and
                                  all(a["received"] >= 2
                                      for a in s["sources"][0]["associations"]),
                                  "%d pool associations with samples" % want)
                addrs = [a["address"] for a in st["sources"][0]["associations"]]
                check(len(set(addrs)) == want, "distinct addresses: %r" % addrs)
                if extra:
                    check(all("127.0.0.2" not in a for a in addrs), "ignored: %r" % addrs)
            finally:
                cli.stop()
    finally:
        srv.stop()


def t_placeholders_fit(wd, pki):
    """AEAD 17's 164-byte cookies: after seven lost responses the jar would
    want seven placeholders, which do not fit the client's 1200-byte packet.
    The client asks for what fits and never spends a cookie on a request it
    could not build, so it recovers without a new key exchange."""
    ntp, ke = free_port(), free_port()
    proxy = UdpProxy(ntp)
    srv = Daemon(wd, "srv", server_conf(pki, ntp, ke, ke_extra='ntp-server = "127.0.0.1"\n'
                                        'ntp-port = %d\naead-algorithms = [17]\n'
                                        % proxy.port))
    cli = nts_client(wd, "cli", pki, ke)
    drops = {"n": 0}

    def drop(req, resp):
        drops["n"] += 1
        return None if drops["n"] <= 7 else resp
    try:
        cli.wait_for(lambda s: assoc(s).get("received", 0) >= 1, "first sample")
        before = assoc(cli.status())
        proxy.mangle = drop
        st = cli.wait_for(lambda s: assoc(s)["received"] >= before["received"] + 10,
                          "samples after seven losses", timeout=40)
        a = assoc(st)
        check(st["sources"][0]["nts_ke"]["ok"] == 1 and a["naks"] == 0,
              "no new key exchange, no NAK: %r %r" % (st["sources"][0]["nts_ke"], a))
        check(a["lost"] >= 7, "losses counted: %r" % a)
        check("request:" not in cli.logtext(), "a request failed:\n" + cli.logtext()[-2000:])
    finally:
        proxy.stop()
        cli.stop()
        srv.stop()


def ntp_now():
    ns = time.time_ns()
    return ((ns // 10**9 + 2208988800) << 32) + ((ns % 10**9) << 32) // 10**9


def t_burst(wd, pki):
    # The socket path answers what one wait reaped and submits the answers in
    # batches of at most 8: a burst must be answered in full, each answer
    # stamped in order (T1 <= T2 <= T3 <= T4 on this one clock, T3 never
    # reused from an earlier answer), and a lone request after a pause must
    # not wait for a batch to fill. Bounds are for correctness, not speed.
    port = free_port()
    d = Daemon(wd, "burst", '[[server]]\nlisten = "127.0.0.1:%d"\n'
               '[synchronization]\nlocal-stratum = 1\n' % port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    try:
        check(ntp_query(port, ntp_request(), timeout=2.0) is not None, "a first lone request")
        s.settimeout(2.0)
        for burst in range(4):
            n, sent, got = 48, {}, []
            for i in range(n):
                tx = (burst << 16) | i | 0x5a00000000
                sent[tx] = ntp_now()
                s.sendto(ntp_request(tx=tx), ("127.0.0.1", port))
            try:
                while len(got) < n:
                    got.append((s.recv(4096), ntp_now()))
            except socket.timeout:
                pass
            check(len(got) == n, "burst %d: %d of %d answered" % (burst, len(got), n))
            last_t3 = 0
            for r, t4 in got:
                f = ntp_fields(r)
                t1 = sent.get(f["origin"])
                check(t1 is not None, "burst %d: an answer to no request: %r" % (burst, f))
                check(t1 <= f["rx"] <= f["tx"] <= t4,
                      "burst %d: T1 %x T2 %x T3 %x T4 %x out of order" %
                      (burst, t1, f["rx"], f["tx"], t4))
                check(f["tx"] >= last_t3, "burst %d: T3 %x before the previous answer's %x" %
                      (burst, f["tx"], last_t3))
                last_t3 = f["tx"]
            time.sleep(0.2)
            t = time.monotonic()
            check(ntp_query(port, ntp_request(), timeout=2.0) is not None,
                  "burst %d: a lone request after it" % burst)
            check(time.monotonic() - t < 2.0, "lone request")
        st = d.status()["ntp_servers"][0]
        check(st["plain"] == 1 + 4 * 49 and st["send_errors"] == 0, "counters %r" % st)
    finally:
        s.close()
        d.stop()


def main():
    tests = [t_samples, t_rotation_nak, t_mitm, t_policy, t_malformed, t_pool,
             t_placeholders_fit, t_burst]
    run_with_pki(tests)


if __name__ == "__main__":
    main()
