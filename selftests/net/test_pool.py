#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""xntsd as a time server behind an NTS pool key exchange
(draft-ietf-ntp-nts-keyexchange-pool, record numbers as ntpd-rs 1.9):
a test-only pool KE, written here on Python's ssl and the cryptography
package's AES-SIV, authenticates with a token, asks what xntsd supports,
asks for cookies under keys it supplies and keeps one TLS connection for
many requests; a client then speaks NTS-protected NTP to xntsd with those
keys. Bad tokens, malformed pool records and every bound are refused and
counted. Everything runs in a network namespace of its own."""

import ctypes
import os
import socket
import struct
import subprocess
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from xnts import (PEERS, UNSTABLE_LD, XNTSCTL, Daemon, check, free_port, ntp_query,
                  ntp_request, parse_records, record, run, run_with_pki, tls_context,
                  u16s, REC_AEAD, REC_COOKIE, REC_EOM, REC_ERROR, REC_NEXT)

REC_KEEP, REC_SUP_PROTO, REC_SUP_AEAD, REC_FIXED, REC_DENY, REC_AUTH = 8, 9, 10, 12, 13, 14
NS = "xnts-pool-%d" % os.getpid()
TOKEN = "pool-token-Zq81"          # never to appear in a log
OTHER = "second-pool-token"
KEYLEN = {15: 32, 17: 64}


# ---- the pool side ----

def auth(token=TOKEN):
    return record(REC_AUTH, token.encode(), False)


def fixed_key(c2s, s2c, aead=15, token=TOKEN, keep=True):
    return (auth(token) + record(REC_FIXED, c2s + s2c) + record(REC_NEXT, u16s(0)) +
            record(REC_AEAD, u16s(aead)) + (record(REC_KEEP, b"", False) if keep else b"") +
            record(REC_EOM))


def support(token=TOKEN, keep=True):
    return (auth(token) + record(REC_SUP_PROTO) + record(REC_SUP_AEAD) +
            (record(REC_KEEP, b"", False) if keep else b"") + record(REC_EOM))


class PoolConn:
    """One TLS connection from the pool to xntsd's NTS-KE."""

    def __init__(self, port, pki):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.s = tls_context(pki.ca).wrap_socket(raw, server_hostname="localhost")
        check(self.s.selected_alpn_protocol() == "ntske/1", "ALPN")
        self.buf = b""

    def send(self, msg):
        self.s.sendall(msg)

    def read_msg(self):
        """The records of one message, or None if the server closed first."""
        off = 0
        while True:
            while len(self.buf) >= off + 4:
                t, n = struct.unpack(">HH", self.buf[off:off + 4])
                if len(self.buf) < off + 4 + n:
                    break
                off += 4 + n
                if t & 0x7fff == REC_EOM:
                    msg, self.buf = self.buf[:off], self.buf[off:]
                    return parse_records(msg)
            try:
                chunk = self.s.recv(4096)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                check(not self.buf, "connection closed inside a message")
                return None
            self.buf += chunk

    def ask(self, msg):
        self.send(msg)
        return self.read_msg()

    def closed(self, timeout=5):
        """True once the server has closed this connection."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout, OSError) as e:
            return not isinstance(e, socket.timeout)

    def close(self):
        self.s.close()


def types(recs):
    return [r[0] for r in recs]


def error_of(recs):
    return [struct.unpack(">H", r[2])[0] for r in recs if r[0] == REC_ERROR]


def cookies(recs):
    return [r[2] for r in recs if r[0] == REC_COOKIE]


# ---- a client of the NTP server, with the keys the pool handed out ----

def ef(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack(">HH", t, 4 + len(body)) + body


def nts_ntp(port, cookie, c2s, s2c):
    """One NTS request under c2s; the answer verified under s2c. Returns
    (fields, new cookies) or raises."""
    uid, nonce = os.urandom(32), os.urandom(16)
    tx = struct.unpack(">Q", os.urandom(8))[0]
    ad = ntp_request(tx=tx) + ef(0x0104, uid) + ef(0x0204, cookie)
    # An encrypted placeholder: this AES-SIV refuses an empty plaintext.
    ct = AESSIV(c2s).encrypt(ef(0x0304, b"\0" * len(cookie)), [ad, nonce])
    pkt = ad + ef(0x0404, struct.pack(">HH", 16, len(ct)) + nonce + ct)
    r = ntp_query(port, pkt, timeout=2)
    check(r is not None, "no answer to the NTS request")
    check(struct.unpack(">Q", r[24:32])[0] == tx, "origin timestamp is not ours")
    off, got_uid = 48, None
    while off + 4 <= len(r):
        t, n = struct.unpack(">HH", r[off:off + 4])
        check(n >= 4 and off + n <= len(r), "broken extension field")
        if t == 0x0104:
            got_uid = r[off + 4:off + n]
        if t == 0x0404:
            body = r[off + 4:off + n]
            nl, cl = struct.unpack(">HH", body[:4])
            rn = body[4:4 + nl]
            ct = body[4 + nl + (-nl % 4):][:cl]
            try:
                plain = AESSIV(s2c).decrypt(ct, [r[:off], rn])
            except InvalidTag:
                raise AssertionError("answer does not verify under the S2C key")
            check(got_uid == uid, "unique identifier not echoed")
            new, p = [], 0
            while p + 4 <= len(plain):
                pt, pn = struct.unpack(">HH", plain[p:p + 4])
                if pt == 0x0204:
                    new.append(plain[p + 4:p + pn])
                p += pn
            return {"stratum": r[1], "mode": r[0] & 7}, new
        off += n
    raise AssertionError("answer without an NTS authenticator: %r" % r[:8])


# ---- the namespace ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


class Netns:
    """This process in a fresh network namespace, loopback up."""

    def __enter__(self):
        run("ip", "netns", "add", NS)
        run("ip", "-n", NS, "link", "set", "lo", "up")
        self.own = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + NS, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns " + NS)
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        _libc.setns(self.own, CLONE_NEWNET)
        os.close(self.own)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def conf(pki, ke, ntp, ke_extra=""):
    return ('[[server]]\nlisten = "127.0.0.1:%d"\n\n'
            '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
            'accepted-pool-authentication-tokens = ["%s", "%s"]\n%s\n'
            '[synchronization]\nlocal-stratum = 1\n'
            % (ntp, ke, pki.cert, pki.key, OTHER, TOKEN, ke_extra))


def ke_status(d):
    return d.status()["nts_ke_servers"][0]


# ---- tests ----

def t_fixed_key_cookies_open_in_ntp(wd, pki):
    ke, ntp = free_port(), free_port(socket.SOCK_DGRAM)
    d = Daemon(wd, "pool", conf(pki, ke, ntp, 'ntp-server = "127.0.0.1"\n'
                                'ntp-port = %d\n' % ntp))
    try:
        p = PoolConn(ke, pki)
        recs = p.ask(support())
        check(types(recs) == [REC_SUP_AEAD, REC_SUP_PROTO, REC_KEEP, REC_EOM],
              "support answer %r" % recs)
        check(recs[0][1] and recs[1][1] and not recs[2][1], "critical bits %r" % recs)
        check(recs[0][2] == u16s(30, 16, 15, 32, 17, 64), "AEADs with key lengths")
        check(recs[1][2] == u16s(0), "protocols: NTPv4")
        got = {}
        for aead in (15, 17):
            c2s, s2c = os.urandom(KEYLEN[aead]), os.urandom(KEYLEN[aead])
            recs = p.ask(fixed_key(c2s, s2c, aead))
            check(recs is not None and not error_of(recs), "fixed key %d: %r" % (aead, recs))
            check((REC_NEXT, u16s(0)) in [(r[0], r[2]) for r in recs], "protocol")
            check((REC_AEAD, u16s(aead)) in [(r[0], r[2]) for r in recs], "AEAD %d" % aead)
            check(REC_KEEP in types(recs), "kept alive")
            check(len(cookies(recs)) == 8, "8 cookies")
            got[aead] = (cookies(recs), c2s, s2c)
        p.close()
        for aead, (cs, c2s, s2c) in got.items():
            f, new = nts_ntp(ntp, cs[0], c2s, s2c)
            check(f["mode"] == 4 and f["stratum"] == 1, "server answer %r" % f)
            check(len(new) == 2, "a fresh cookie for the cookie and the placeholder")
            # The fresh cookie carries the pool's keys as well.
            nts_ntp(ntp, new[0], c2s, s2c)
            # Under another C2S key the request is not answered as NTS.
            try:
                nts_ntp(ntp, cs[1], os.urandom(KEYLEN[aead]), s2c)
                raise AssertionError("a request under a wrong key was answered")
            except AssertionError as e:
                check("wrong key" not in str(e), str(e))
            # Nor does an answer verify under any key but S2C.
            try:
                nts_ntp(ntp, cs[2], c2s, c2s)
                raise AssertionError("answer verified under C2S")
            except AssertionError as e:
                check("S2C" in str(e), str(e))
        st = d.wait_for(lambda s: s["nts_ke_servers"][0]["longlived"]["active"] == 0,
                        "the pool connection to end")
        ke_st = st["nts_ke_servers"][0]
        check(ke_st["pool"] == {"fixed_key": 2, "support": 1, "refused_token": 0,
                                "bad_request": 0, "deny_records": 0},
              "pool counters %r" % ke_st["pool"])
        ll = ke_st["longlived"]
        check(ll["opened"] == 1 and ll["requests"] == 3 and ll["refused_limit"] == 0,
              "longlived counters %r" % ll)
        check(ke_st["cookies_issued"] == 16, "cookies_issued %r" % ke_st)
        srv = st["ntp_servers"][0]
        check(srv["nts"] >= 6, "NTS answers counted: %r" % srv)
        prom = d.ctl("status", "-f", "prometheus")
        check('xnts_nts_ke_pool_requests_total{listen_address="127.0.0.1:%d",'
              'result="fixed_key"} 2' % ke in prom, "prometheus pool counter:\n" + prom)
        check('xnts_nts_ke_longlived_opened_total{listen_address="127.0.0.1:%d"} 1' % ke
              in prom, "prometheus longlived counter")
    finally:
        check(d.stop() == 0, "clean exit")
    log = open(d.log).read()
    check("nts-ke" in log, "debug log written")
    check(TOKEN not in log and OTHER not in log, "a token was logged")


def t_tokens_refused(wd, pki):
    ke, ntp = free_port(), free_port(socket.SOCK_DGRAM)
    d = Daemon(wd, "tok", conf(pki, ke, ntp))
    try:
        bad = [("wrong token", fixed_key(os.urandom(32), os.urandom(32), token="pool-token-Zq82")),
               ("prefix", support(token=TOKEN[:-1])),
               ("longer", support(token=TOKEN + "x")),
               ("other case", support(token=TOKEN.upper()))]
        for what, msg in bad:
            p = PoolConn(ke, pki)
            recs = p.ask(msg)
            check(recs is not None and error_of(recs) == [1], "%s: %r" % (what, recs))
            check(p.closed(), "%s: connection left open" % what)
            p.close()
        # No token at all: the request cannot be a pool request; Bad Request too.
        p = PoolConn(ke, pki)
        recs = p.ask(record(REC_SUP_PROTO) + record(REC_EOM))
        check(error_of(recs) == [1], "without a token: %r" % recs)
        p.close()
        # The other configured token is as good.
        p = PoolConn(ke, pki)
        recs = p.ask(support(token=OTHER, keep=False))
        check(types(recs) == [REC_SUP_AEAD, REC_SUP_PROTO, REC_EOM], "other token %r" % recs)
        check(p.closed(), "no keep alive asked: closed")
        p.close()
        st = ke_status(d)
        check(st["pool"]["refused_token"] == 4 and st["pool"]["bad_request"] == 1 and
              st["pool"]["support"] == 1, "counters %r" % st["pool"])
        check(st["handshakes_failed"] == 5, "failures %r" % st)
        # A server without tokens refuses every pool request the same way.
        d2 = Daemon(wd, "notok", conf(pki, free_port(), free_port(socket.SOCK_DGRAM))
                    .replace('accepted-pool-authentication-tokens = ["%s", "%s"]'
                             % (OTHER, TOKEN), ""))
        try:
            port = int(d2.status()["nts_ke_servers"][0]["listen"].rsplit(":", 1)[1])
            p = PoolConn(port, pki)
            check(error_of(p.ask(support())) == [1], "no tokens configured")
            p.close()
            check(ke_status(d2)["pool"]["refused_token"] == 1, "counted")
        finally:
            d2.stop()
    finally:
        check(d.stop() == 0, "clean exit")
    log = open(d.log).read()
    check("without an accepted token" in log, "refusals logged")
    check(TOKEN not in log, "a token was logged")


def t_longlived_bounds(wd, pki):
    ke, ntp = free_port(), free_port(socket.SOCK_DGRAM)
    d = Daemon(wd, "ll", conf(pki, ke, ntp, "longlived-connections = 1\n"
                              "longlived-max-requests = 3\n"
                              "longlived-idle-timeout-ms = 400\n"
                              "per-client-connections = 2\n"))
    try:
        a = PoolConn(ke, pki)
        check(REC_KEEP in types(a.ask(support())), "first connection kept")
        # The only slot is taken: answered, but not kept.
        b = PoolConn(ke, pki)
        recs = b.ask(support())
        check(types(recs) == [REC_SUP_AEAD, REC_SUP_PROTO, REC_EOM], "second %r" % recs)
        check(b.closed(), "second connection closed")
        b.close()
        # Per-client limit still applies: a holds one, c another, d is refused.
        d.wait_for(lambda s: s["nts_ke_servers"][0]["active"] == 1, "b gone")
        c = PoolConn(ke, pki)
        try:
            PoolConn(ke, pki).ask(support())
            raise AssertionError("third connection from one address accepted")
        except (OSError, ConnectionError) as e:
            check("accepted" not in str(e), str(e))
        c.close()
        # Two requests in one write: both answered in order (the second is
        # the third on this connection, so it ends it).
        k1, k2 = os.urandom(32), os.urandom(32)
        a.send(fixed_key(k1, k2) + support())
        r1, r2 = a.read_msg(), a.read_msg()
        check(len(cookies(r1)) == 8 and REC_KEEP in types(r1), "pipelined first %r" % r1)
        check(REC_SUP_AEAD in types(r2) and REC_KEEP not in types(r2),
              "third request answered without keep alive: %r" % r2)
        check(a.closed(), "closed after longlived-max-requests")
        a.close()
        # The slot is free again; idle past the timeout ends the connection.
        d.wait_for(lambda s: s["nts_ke_servers"][0]["active"] == 0, "connections gone")
        e = PoolConn(ke, pki)
        check(REC_KEEP in types(e.ask(support())), "slot reused")
        t0 = time.time()
        check(e.closed(), "idle connection closed")
        check(time.time() - t0 < 3, "closed within a few idle timeouts")
        e.close()
        st = d.wait_for(lambda s: s["nts_ke_servers"][0]["longlived"]["active"] == 0,
                        "no kept connection")["nts_ke_servers"][0]
        ll = st["longlived"]
        check(ll["opened"] == 2 and ll["refused_limit"] == 1 and
              ll["closed"]["max_requests"] == 1 and ll["closed"]["idle"] == 1,
              "longlived counters %r" % ll)
        check(st["refused_client"] >= 1, "per-client refusal counted %r" % st)
    finally:
        check(d.stop() == 0, "clean exit")
    # longlived-max-requests = 1: the first answer is the last; nothing kept.
    ke = free_port()
    d = Daemon(wd, "one", conf(pki, ke, free_port(socket.SOCK_DGRAM),
                               "longlived-max-requests = 1\n"))
    try:
        p = PoolConn(ke, pki)
        recs = p.ask(support())
        check(types(recs) == [REC_SUP_AEAD, REC_SUP_PROTO, REC_EOM],
              "one request allowed, yet kept: %r" % recs)
        check(p.closed(), "closed after its only request")
        p.close()
        ll = ke_status(d)["longlived"]
        check(ll["opened"] == 0 and ll["closed"]["max_requests"] == 1 and
              ll["refused_limit"] == 0, "longlived counters %r" % ll)
    finally:
        check(d.stop() == 0, "clean exit")
    # The whole lifetime is bounded as well.
    ke = free_port()
    d = Daemon(wd, "dur", conf(pki, ke, free_port(socket.SOCK_DGRAM),
                               "longlived-idle-timeout-ms = 1000\n"
                               "longlived-max-duration-ms = 700\n"))
    try:
        p = PoolConn(ke, pki)
        n, kept = 0, True
        while kept and n < 40:
            recs = p.ask(support())
            if recs is None:
                break
            kept = REC_KEEP in types(recs)
            n += 1
            time.sleep(0.1)
        check(n < 40 and p.closed(), "connection outlived longlived-max-duration-ms")
        p.close()
        ll = d.wait_for(lambda s: s["nts_ke_servers"][0]["longlived"]["active"] == 0,
                        "no kept connection")["nts_ke_servers"][0]["longlived"]
        check(ll["closed"]["duration"] == 1 and ll["closed"]["idle"] == 0,
              "duration counted %r" % ll)
    finally:
        check(d.stop() == 0, "clean exit")


def fds(d):
    return len(os.listdir("/proc/%d/fd" % d.proc.pid))


def t_close_paths_release(wd, pki):
    """However a kept connection ends, its slot, its connection ticket and its
    descriptor come back; a TLS error between requests is counted."""
    ke, ntp = free_port(), free_port(socket.SOCK_DGRAM)
    d = Daemon(wd, "close", conf(pki, ke, ntp, "longlived-max-requests = 2\n"
                                 "longlived-idle-timeout-ms = 300\n"))
    gone = lambda s: (s["nts_ke_servers"][0]["active"] == 0 and
                      s["nts_ke_servers"][0]["longlived"]["active"] == 0)
    linger0 = struct.pack("ii", 1, 0)
    try:
        p = PoolConn(ke, pki)
        check(REC_KEEP not in types(p.ask(support(keep=False))), "warm-up")
        p.close()
        d.wait_for(gone, "warm-up connection gone")
        base = fds(d)
        ends = []
        for how in ("idle", "max-requests", "close", "reset", "reset mid-request",
                    "TLS garbage"):
            p = PoolConn(ke, pki)
            check(REC_KEEP in types(p.ask(support())), "%s: kept" % how)
            if how == "idle":
                check(p.closed(), "idle: closed")
            elif how == "max-requests":
                check(REC_KEEP not in types(p.ask(support())) and p.closed(), how)
            elif how.startswith("reset"):
                if how != "reset":
                    p.send(support()[:5])
                    time.sleep(0.1)
                p.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
            elif how == "TLS garbage":
                # An application data record that no key opens.
                os.write(p.s.fileno(), b"\x17\x03\x03\x00\x20" + b"\0" * 32)
                check(p.closed(), "TLS garbage: closed")
            p.close()
            ends.append(how)
        st = d.wait_for(gone, "every kept connection to end")["nts_ke_servers"][0]
        for _ in range(50):
            if fds(d) == base:
                break
            time.sleep(0.1)
        check(fds(d) == base, "descriptors: %d, before %d" % (fds(d), base))
        check(st["longlived"]["opened"] == len(ends), "opened %r" % st["longlived"])
        # Reset mid-request and the TLS garbage; a close between requests is normal.
        check(st["failed"]["bad_request"] == 2, "failures %r" % st["failed"])
        check(d.alive(), "daemon alive")
    finally:
        check(d.stop() == 0, "clean exit")


def t_malformed_pool_records(wd, pki):
    ke, ntp = free_port(), free_port(socket.SOCK_DGRAM)
    d = Daemon(wd, "mal", conf(pki, ke, ntp))
    k = os.urandom(32)
    fk = record(REC_NEXT, u16s(0)) + record(REC_AEAD, u16s(15))
    bad = [
        ("odd fixed key", auth() + record(REC_FIXED, b"abc") + fk + record(REC_EOM), 1),
        ("AEAD 17 with AEAD 15 keys", fixed_key(k, k, aead=17)[:0] + auth() +
         record(REC_FIXED, k + k) + record(REC_NEXT, u16s(0)) + record(REC_AEAD, u16s(17)) +
         record(REC_EOM), 1),
        ("two tokens", auth() + auth() + record(REC_SUP_AEAD) + record(REC_EOM), 1),
        ("empty token", record(REC_AUTH, b"", False) + record(REC_SUP_AEAD) +
         record(REC_EOM), 1),
        ("keep alive with a body", auth() + record(REC_SUP_AEAD) +
         record(REC_KEEP, b"x", False) + record(REC_EOM), 1),
        ("support with next protocol", auth() + record(REC_SUP_PROTO) + fk + record(REC_EOM), 1),
        ("fixed key, two AEADs", auth() + record(REC_FIXED, k + k) + record(REC_NEXT, u16s(0)) +
         record(REC_AEAD, u16s(15, 17)) + record(REC_EOM), 1),
        ("AEAD list not in pairs", auth() + record(REC_SUP_AEAD, u16s(15)) + record(REC_EOM), 1),
        ("deny of a bad name", fk + record(REC_DENY, b"a b", False) + record(REC_EOM), 1),
        ("record 11 critical", fk + record(11) + record(REC_EOM), 0),
    ]
    try:
        for what, msg, code in bad:
            p = PoolConn(ke, pki)
            recs = p.ask(msg)
            check(recs is not None and error_of(recs) == [code], "%s: %r" % (what, recs))
            p.close()
        # On a kept connection: a plain exchange, then garbage, end it with Error 1.
        p = PoolConn(ke, pki)
        check(REC_KEEP in types(p.ask(support())), "kept")
        recs = p.ask(fk + record(REC_EOM))
        check(error_of(recs) == [1] and p.closed(), "plain exchange on a pool connection")
        p.close()
        p = PoolConn(ke, pki)
        check(REC_KEEP in types(p.ask(support())), "kept")
        recs = p.ask(b"\x80\x0c\xff\xff" + b"z" * 64)
        check(recs is None or error_of(recs) == [1], "garbage %r" % recs)
        p.close()
        # A plain client with deny, keep alive and a token record: served as usual.
        p = PoolConn(ke, pki)
        recs = p.ask(fk + record(REC_DENY, b"a.example", False) + record(REC_KEEP, b"", False) +
                     auth() + record(REC_EOM))
        check(len(cookies(recs)) == 8 and REC_KEEP not in types(recs), "plain %r" % recs)
        check(p.closed(), "plain exchange closed")
        p.close()
        check(d.alive(), "daemon alive")
        st = ke_status(d)
        # Nine carried pool records; the rest are plain bad requests.
        check(st["pool"]["bad_request"] == 9, "pool bad requests %r" % st["pool"])
        check(st["failed"]["bad_request"] == 11, "bad requests %r" % st["failed"])
        check(st["failed"]["critical"] == 1, "critical %r" % st["failed"])
        check(st["longlived"]["opened"] == 2, "kept %r" % st["longlived"])
        check(st["pool"]["deny_records"] == 1, "deny records %r" % st["pool"])
    finally:
        check(d.stop() == 0, "clean exit")


def t_config_validates(wd, pki):
    # nts.md's server snippet with the pool keys added; xntsctl and, where
    # it runs, ntpd-rs 1.9's own ntp-ctl accept it.
    path = os.path.join(wd, "ntp.toml")
    with open(path, "w") as f:
        f.write('[[nts-ke-server]]\nlisten = "[::]:4460"\n'
                'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                'longlived-connections = 20\n'
                'accepted-pool-authentication-tokens = ["<YOUR TOKEN HERE>"]\n\n'
                '[keyset]\nkey-storage-path="%s"\n\n[[server]]\nlisten = "[::]:123"\n'
                % (pki.cert, pki.key, os.path.join(wd, "keys")))
    r = subprocess.run([XNTSCTL, "-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    ctl = UNSTABLE_LD + [os.path.join(PEERS, "unstable", "root", "usr", "bin", "ntp-ctl")]
    r = subprocess.run(ctl + ["-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode == 0, "ntp-ctl 1.9: " + r.stdout + r.stderr)
    # Bounds of our own: ntpd-rs 1.9 knows no such key, we check them.
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text.replace("longlived-connections = 20", "longlived-connections = 20\n"
                             "longlived-max-requests = 5\nlonglived-idle-timeout-ms = 900\n"
                             "longlived-max-duration-ms = 60000"))
    r = subprocess.run([XNTSCTL, "-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    r = subprocess.run(ctl + ["-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode != 0 and "unknown field `longlived-" in r.stdout + r.stderr,
          "ntp-ctl 1.9 on our keys: " + r.stdout + r.stderr)
    bad = text.replace("longlived-connections = 20", "longlived-connections = 600")
    with open(path, "w") as f:
        f.write(bad)
    r = subprocess.run([XNTSCTL, "-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode != 0 and "more than concurrent-connections" in r.stdout + r.stderr,
          r.stdout + r.stderr)
    check("YOUR TOKEN" not in r.stdout + r.stderr, "token echoed")


def main():
    with Netns():
        run_with_pki([t_fixed_key_cookies_open_in_ntp, t_tokens_refused, t_longlived_bounds,
                      t_close_paths_release, t_malformed_pool_records, t_config_validates])


if __name__ == "__main__":
    main()
