#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""NTS-KE over TLS 1.3: xntsd's server against an independent probe (Python's
ssl module on OpenSSL) and against xntsd's own client, bad input, limits,
certificate reload, key storage, and the daemon's command line."""

import os
import signal
import socket
import ssl
import subprocess
import time

from xnts import (run_with_pki, Daemon, Pki, check, free_port, ke_exchange,
                  record, request, u16s, REC_AEAD, REC_COOKIE, REC_EOM,
                  REC_ERROR, REC_NEXT, REC_PORT, REC_SERVER, XNTSD, tls_context)

# chrony's private record: RFC 8915 AES-128-GCM-SIV keys (Documentation/nts-ke.md).
REC_COMPLIANT = 1024


def server_conf(pki, port, extra="", keys=None):
    c = ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
         'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n%s'
         % (port, pki.cert, pki.key, extra))
    if keys:
        c += '\n[keyset]\nkey-storage-path = "%s"\n' % keys
    return c


def rec_types(recs):
    return [r[0] for r in recs]


def cookies(recs):
    return [r[2] for r in recs if r[0] == REC_COOKIE]


def t_seed_snippets(wd, pki):
    # The guide's snippets verbatim, with its paths filled in.
    keys = os.path.join(wd, "keys.bin")
    conf = ('[[nts-ke-server]]\nlisten = "[::]:4460"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n\n'
            '[keyset]\nkey-storage-path="%s"\n' % (pki.cert, pki.key, keys))
    d = Daemon(wd, "seed", conf)
    try:
        recs, _ = ke_exchange(4460, request(), ca=pki.ca)
        check(recs[0][:2] == (REC_NEXT, True) and recs[0][2] == u16s(0),
              "next protocol record: %r" % (recs[0],))
        check((REC_AEAD, u16s(15)) in [(r[0], r[2]) for r in recs], "AEAD 15")
        c = cookies(recs)
        check(len(c) == 8, "8 cookies, got %d" % len(c))
        check(all(len(x) == 100 for x in c), "cookie lengths %r" % [len(x) for x in c])
        check(len(set(c)) == 8, "cookies are unique")
        check(recs[-1][:2] == (REC_EOM, True), "ends with critical EOM")
        st = os.stat(keys)
        check(st.st_mode & 0o777 == 0o600, "key file mode %o" % st.st_mode)
        s = d.status()["nts_ke_servers"][0]
        check(s["handshakes_ok"] == 1 and s["cookies_issued"] == 8, "status %r" % s)
        key_ids = {k["id"] for k in d.status()["keyset"]["keys"]}
        check(all(x[:4].hex() in key_ids for x in c), "cookies carry a current key id")
    finally:
        check(d.stop() == 0, "clean exit on SIGTERM")


def t_negotiation(wd, pki):
    port = free_port()
    d = Daemon(wd, "neg", server_conf(pki, port, 'ntp-server = "ntp.example.net"\n'
                                      'ntp-port = 1123\n'))
    try:
        recs, _ = ke_exchange(port, request(aeads=(17,)), ca=pki.ca)
        check((REC_AEAD, u16s(17)) in [(r[0], r[2]) for r in recs], "AEAD 17 chosen")
        check(all(len(x) == 164 for x in cookies(recs)), "164-byte cookies for AEAD 17")
        check((REC_SERVER, b"ntp.example.net") in [(r[0], r[2]) for r in recs],
              "server negotiation record")
        check((REC_PORT, u16s(1123)) in [(r[0], r[2]) for r in recs],
              "port negotiation record")
        recs, _ = ke_exchange(port, request(aeads=(17, 15)), ca=pki.ca)
        check((REC_AEAD, u16s(15)) in [(r[0], r[2]) for r in recs], "prefers 15")
        # 30 first by default; chrony's record 1024 is echoed only if sent.
        recs, _ = ke_exchange(port, request(aeads=(15, 17, 30)), ca=pki.ca)
        check((REC_AEAD, u16s(30)) in [(r[0], r[2]) for r in recs], "prefers 30")
        check(all(len(x) == 68 for x in cookies(recs)) and len(cookies(recs)) == 8,
              "68-byte cookies for AEAD 30")
        check(REC_COMPLIANT not in [r[0] for r in recs], "no 1024 unasked: %r" % recs)
        recs, _ = ke_exchange(port, request(aeads=(30, 15), extra=record(
            REC_COMPLIANT, b"", False)), ca=pki.ca)
        check((REC_COMPLIANT, False, b"") in recs, "1024 echoed: %r" % recs)
        # Nothing acceptable: empty AEAD list and no cookies.
        recs, _ = ke_exchange(port, request(aeads=(16,)), ca=pki.ca)
        check((REC_AEAD, b"") in [(r[0], r[2]) for r in recs] and not cookies(recs),
              "empty AEAD list for an unknown AEAD: %r" % recs)
        # An unknown non-critical record is ignored.
        recs, _ = ke_exchange(port, request(extra=record(0x4321, b"x", False)),
                              ca=pki.ca)
        check(len(cookies(recs)) == 8, "non-critical unknown record ignored")
        # An unknown critical record gets Error 0, a bad request Error 1.
        recs, _ = ke_exchange(port, request(extra=record(0x4321, b"x")), ca=pki.ca)
        check((REC_ERROR, u16s(0)) in [(r[0], r[2]) for r in recs], "error 0: %r" % recs)
        recs, _ = ke_exchange(port, record(REC_AEAD, u16s(15)) + record(REC_EOM),
                              ca=pki.ca)
        check((REC_ERROR, u16s(1)) in [(r[0], r[2]) for r in recs], "error 1: %r" % recs)
        st = d.status()["nts_ke_servers"][0]
        check(st["failed"]["critical"] == 1 and st["failed"]["bad_request"] == 1,
              "failure counters %r" % st)
    finally:
        check(d.stop() == 0, "clean exit")


def t_aead_preference(wd, pki):
    # aead-algorithms: the server's order, and what is left out is refused.
    port = free_port()
    d = Daemon(wd, "pref", server_conf(pki, port, "aead-algorithms = [15, 17]\n"))
    try:
        recs, _ = ke_exchange(port, request(aeads=(30, 17, 15)), ca=pki.ca)
        check((REC_AEAD, u16s(15)) in [(r[0], r[2]) for r in recs], "15 first: %r" % recs)
        recs, _ = ke_exchange(port, request(aeads=(30,)), ca=pki.ca)
        check((REC_AEAD, b"") in [(r[0], r[2]) for r in recs] and not cookies(recs),
              "30 not allowed: %r" % recs)
    finally:
        check(d.stop() == 0, "clean exit")


def good(port, pki):
    recs, _ = ke_exchange(port, request(), ca=pki.ca)
    check(len(cookies(recs)) == 8, "a good client still gets 8 cookies")


def t_bad_input(wd, pki):
    port = free_port()
    d = Daemon(wd, "bad", server_conf(pki, port, "key-exchange-timeout-ms = 600\n"))
    try:
        # Plain bytes where a TLS ClientHello should be.
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
        try:
            check(s.recv(4096) is not None, "connection answered or closed")
        except ConnectionResetError:
            pass
        s.close()
        good(port, pki)
        # TLS 1.2 only.
        try:
            ke_exchange(port, request(), ca=pki.ca, tls12=True)
            raise AssertionError("TLS 1.2 accepted")
        except ssl.SSLError:
            pass
        good(port, pki)
        # Wrong ALPN, and none at all.
        for alpn in (("http/1.1",), None):
            try:
                recs, _ = ke_exchange(port, request(), ca=pki.ca, alpn=alpn)
                raise AssertionError("exchange without ntske/1 answered: %r" % recs)
            except (ssl.SSLError, AssertionError, ConnectionError) as e:
                if "answered" in str(e):
                    raise
        good(port, pki)
        # Garbage records, and an oversized request.
        try:
            recs, _ = ke_exchange(port, b"\xff" * 64, ca=pki.ca)
            check(recs[0][0] == REC_ERROR, "garbage gets an error record")
        except (ConnectionError, AssertionError):
            pass
        big = b"".join(record(0x4000 + i, b"y" * 200, False) for i in range(40))
        recs, _ = ke_exchange(port, big + request(), ca=pki.ca)
        check((REC_ERROR, u16s(1)) in [(r[0], r[2]) for r in recs],
              "oversized request: %r" % recs[:2])
        good(port, pki)
        # A client that stalls mid-message is cut off at the deadline.
        ctx = tls_context(pki.ca)
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(request()[:5])
        t0 = time.time()
        check(s.recv(100) == b"", "stalled connection closed without an answer")
        took = time.time() - t0
        check(0.2 < took < 3, "closed after %.2f s (timeout 0.6 s)" % took)
        s.close()
        good(port, pki)
        st = d.status()["nts_ke_servers"][0]
        check(st["failed"]["timeout"] >= 1 and st["failed"]["tls"] >= 2 and
              st["failed"]["alpn"] + st["failed"]["tls"] >= 4, "counters %r" % st)
        check(d.alive(), "daemon alive")
    finally:
        check(d.stop() == 0, "clean exit")


def t_connection_limit(wd, pki):
    port = free_port()
    d = Daemon(wd, "limit", server_conf(pki, port, "concurrent-connections = 3\n"
                                        "key-exchange-timeout-ms = 5000\n"))
    try:
        ctx = tls_context(pki.ca)
        held = []
        for _ in range(3):
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            held.append(ctx.wrap_socket(raw, server_hostname="localhost"))
        d.wait_for(lambda st: st["nts_ke_servers"][0]["active"] == 3, "3 active")
        # The fourth is refused at once...
        try:
            ke_exchange(port, request(), ca=pki.ca, timeout=3)
            raise AssertionError("connection past the limit was served")
        except (ssl.SSLError, ConnectionError, OSError, AssertionError) as e:
            if "was served" in str(e):
                raise
        # ... and the three it holds are still served.
        for s in held:
            s.sendall(request())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            check(data.count(record(REC_EOM)) == 1 and len(data) > 800,
                  "held connection answered (%d bytes)" % len(data))
            s.close()
        st = d.status()["nts_ke_servers"][0]
        check(st["refused_limit"] >= 1 and st["handshakes_ok"] == 3, "status %r" % st)
        good(port, pki)
    finally:
        check(d.stop() == 0, "clean exit")


def client_conf(addr, extra=""):
    return '[[source]]\nmode = "nts"\naddress = "%s"\n%s' % (addr, extra)


def t_our_client(wd, pki):
    port = free_port()
    srv = Daemon(wd, "srv", server_conf(pki, port))
    cases = [
        ("localhost:%d" % port, 'certificate-authority = "%s"\n' % pki.ca, True),
        ("127.0.0.1:%d" % port, 'certificate-authority = "%s"\n' % pki.ca, True),
        # Without our CA the system store does not know the server.
        ("localhost:%d" % port, "", False),
    ]
    try:
        for i, (addr, extra, ok) in enumerate(cases):
            cli = Daemon(wd, "cli%d" % i, client_conf(addr, extra))
            try:
                st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["state"] in
                                  ("done", "failed"), "key exchange")
                ke = st["sources"][0]["nts_ke"]
                if ok:
                    # The first NTP poll may already have spent one cookie.
                    check(ke["state"] == "done" and ke["cookies"] >= 7 and
                          ke["aead"] == 30, "%s: %r" % (addr, ke))
                else:
                    check(ke["state"] == "failed" and
                          "verif" in ke["error"], "%s: %r" % (addr, ke))
            finally:
                check(cli.stop() == 0, "client clean exit")
        check(srv.status()["nts_ke_servers"][0]["handshakes_ok"] == 2, "server count")
    finally:
        srv.stop()


def t_client_address_fallback(wd, pki):
    """A name with two addresses, the first (::1, sorted first by RFC 6724)
    refusing: the client moves on
    to the second. Under SANITIZE=1, LeakSanitizer fails the exit code if
    the first attempt's TLS object was not freed."""
    port = free_port()
    srv = Daemon(wd, "srv", server_conf(pki, port))
    hosts = os.path.join(wd, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n")
    # Our hosts file in a private mount namespace; the host's is untouched.
    prefix = ("unshare", "-m", "sh", "-c", 'mount --bind "%s" /etc/hosts && exec "$0" "$@"'
              % hosts)
    try:
        cli = Daemon(wd, "fb", client_conf("localhost:%d" % port,
                                           'certificate-authority = "%s"\n' % pki.ca),
                     prefix=prefix)
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["state"] in
                              ("done", "failed"), "key exchange")
            ke = st["sources"][0]["nts_ke"]
            check(ke["state"] == "done" and ke["cookies"] >= 7, "fallback: %r" % ke)
        finally:
            rc = cli.stop()
            with open(cli.log) as f:
                check(rc == 0, "client exit %d:\n%s" % (rc, f.read()[-3000:]))
    finally:
        srv.stop()


def t_client_dns_hang(wd, pki):
    """A name server that never answers: the exchange times out (5 s) while
    the lookup still blocks, and the next attempt starts after its backoff
    instead of waiting for the stuck lookup; the daemon exits cleanly with
    lookups in flight."""
    resolv = os.path.join(wd, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 192.0.2.53\noptions timeout:30 attempts:2\n")
    # A private network namespace where queries to 192.0.2.53 vanish, and a
    # private mount namespace for resolv.conf; the host's are untouched.
    prefix = ("unshare", "-m", "-n", "sh", "-c",
              'ip link set lo up && ip route add 192.0.2.0/24 dev lo && '
              'mount --bind "%s" /etc/resolv.conf && exec "$0" "$@"' % resolv)
    cli = Daemon(wd, "dns", client_conf("ke.example.net:4460"), prefix=prefix)
    try:
        st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["consecutive_failures"] >= 2,
                          "a second attempt while the first lookup hangs", timeout=25)
        ke = st["sources"][0]["nts_ke"]
        check("timed out" in ke["error"], "error %r" % ke["error"])
    finally:
        rc = cli.stop()
        with open(cli.log) as f:
            check(rc == 0, "client exit %d:\n%s" % (rc, f.read()[-3000:]))


def t_pinning(wd, pki):
    port = free_port()
    conf = ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
            % (port, pki.ss_cert, pki.ss_key))
    srv = Daemon(wd, "ss", conf)
    other = Pki.spki_pin(pki.cert)
    cases = [("", "failed"), ('certificate-pin = "%s"\n' % Pki.spki_pin(pki.ss_cert), "done"),
             ('certificate-pin = "%s"\n' % other, "failed")]
    try:
        for i, (extra, want) in enumerate(cases):
            cli = Daemon(wd, "pin%d" % i, client_conf("localhost:%d" % port, extra))
            try:
                st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["state"] in
                                  ("done", "failed"), "key exchange")
                ke = st["sources"][0]["nts_ke"]
                check(ke["state"] == want, "pin case %d: %r" % (i, ke))
            finally:
                cli.stop()
    finally:
        srv.stop()


def t_cert_reload(wd, pki):
    port = free_port()
    live = os.path.join(wd, "live")
    os.mkdir(live)
    k2, c2 = pki.issue("second")
    # certbot keeps live/ symlinks pointing into an archive directory.
    os.symlink(pki.cert, os.path.join(live, "fullchain.pem"))
    os.symlink(pki.key, os.path.join(live, "privkey.pem"))
    conf = ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
            'certificate-chain-path = "%s/fullchain.pem"\n'
            'private-key-path = "%s/privkey.pem"\n' % (port, live, live))
    d = Daemon(wd, "reload", conf)

    def der(path):
        return ssl.PEM_cert_to_DER_cert(open(path).read())

    def served():
        return ke_exchange(port, request(), ca=pki.ca)[1]

    def swap(name, target):
        tmp = os.path.join(live, name + ".new")
        os.symlink(target, tmp)
        os.rename(tmp, os.path.join(live, name))

    try:
        check(served() == der(pki.cert), "first certificate served")
        swap("privkey.pem", k2)
        swap("fullchain.pem", c2)
        end = time.time() + 5
        while served() != der(c2) and time.time() < end:
            time.sleep(0.1)
        check(served() == der(c2), "new certificate served after the swap")
        # A broken new certificate keeps the current one serving.
        bad = os.path.join(wd, "broken.pem")
        with open(bad, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n"
                    "-----END CERTIFICATE-----\n")
        before = d.status()["nts_ke_servers"][0]["reloads_failed"]
        swap("fullchain.pem", bad)
        d.wait_for(lambda s: s["nts_ke_servers"][0]["reloads_failed"] > before,
                   "failed reload")
        check(served() == der(c2), "old certificate still served after a bad swap")
        check("certificate reload failed" in d.logtext(), "error logged")
        swap("fullchain.pem", c2)
        ok = d.status()["nts_ke_servers"][0]["reloads_ok"]
        d.wait_for(lambda s: s["nts_ke_servers"][0]["reloads_ok"] > ok, "reload")
        # SIGHUP reloads too.
        ok = d.status()["nts_ke_servers"][0]["reloads_ok"]
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda s: s["nts_ke_servers"][0]["reloads_ok"] > ok, "SIGHUP reload")
        check(served() == der(c2), "served after SIGHUP")
    finally:
        check(d.stop() == 0, "clean exit")


def t_key_storage(wd, pki):
    port = free_port()
    keys = os.path.join(wd, "k", "keys")
    # The parent directory is never created.
    conf = server_conf(pki, port, keys=keys)
    with open(os.path.join(wd, "ks.toml"), "w") as f:
        f.write(conf)
    p = subprocess.run([XNTSD, "-x", "-c", os.path.join(wd, "ks.toml")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and keys in p.stderr, "missing parent: %r" % p.stderr)
    check(not os.path.exists(os.path.dirname(keys)), "parent not created")
    os.mkdir(os.path.dirname(keys))
    d = Daemon(wd, "ks1", conf)
    ids = [k["id"] for k in d.status()["keyset"]["keys"]]
    d.stop()
    d = Daemon(wd, "ks2", conf)
    check([k["id"] for k in d.status()["keyset"]["keys"]] == ids, "keys survive restart")
    d.stop()
    # A world-readable or damaged key file stops the daemon; it stays untouched.
    os.chmod(keys, 0o644)
    before = open(keys, "rb").read()
    with open(os.path.join(wd, "ks.toml"), "w") as f:
        f.write(conf)
    p = subprocess.run([XNTSD, "-x", "-c", os.path.join(wd, "ks.toml")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and keys in p.stderr, "world-readable: %r" % p.stderr)
    os.chmod(keys, 0o600)
    with open(keys, "r+b") as f:
        f.truncate(len(before) - 3)
    p = subprocess.run([XNTSD, "-x", "-c", os.path.join(wd, "ks.toml")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and keys in p.stderr, "truncated: %r" % p.stderr)
    check(open(keys, "rb").read() == before[:-3], "damaged file left as it was")


def t_config_errors(wd, pki):
    path = os.path.join(wd, "bad.toml")
    with open(path, "w") as f:
        f.write('[[source]]\nmode = "nts"\naddress = "a.example"\nfoo-bar = 1\n')
    p = subprocess.run([XNTSD, "-x", "-c", path], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode != 0, "unknown key refused")
    check("%s:4:1" % path in p.stderr and "foo-bar" in p.stderr,
          "file:line:column and key named: %r" % p.stderr)
    p = subprocess.run([XNTSD, "-x", "-c", os.path.join(wd, "missing.toml")],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "missing.toml" in p.stderr, "missing file: %r" % p.stderr)
    p = subprocess.run([XNTSD, "-x", "-l", "loud", "-c", path], capture_output=True,
                       text=True, timeout=10)
    check(p.returncode != 0 and "loud" in p.stderr, "bad log level: %r" % p.stderr)


def main():
    tests = [t_seed_snippets, t_negotiation, t_aead_preference, t_bad_input,
             t_connection_limit, t_our_client, t_client_address_fallback, t_client_dns_hang,
             t_pinning, t_cert_reload, t_key_storage, t_config_errors]
    run_with_pki(tests)


if __name__ == "__main__":
    main()
