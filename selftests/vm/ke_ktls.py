#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""xntsd's NTS-KE server with kernel TLS, in the VM guest (the host kernel
has no CONFIG_TLS). Run by test_ke_ktls.sh.

OpenSSL 3.0 offloads only TLS 1.3 sending, so the server's records after the
handshake are encrypted by the kernel: xntsd counts that (status JSON
nts_ke_servers[].ktls_send, plain "kTLS: active") and so does the kernel
(/proc/net/tls_stat TlsTxSw, or TlsTxDevice for a NIC offload).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))
from xnts import (REC_COOKIE, REC_PORT, Daemon, Ktap, Pki, Workdir,  # noqa: E402
                  check, free_port, ke_exchange, request)


def in_guest():
    with open("/proc/cmdline") as f:
        return "xnts_vm=1" in f.read().split()


def tls_tx():
    """TlsTxSw + TlsTxDevice: TLS transmit sockets the kernel has set up.
    Before the tls module is loaded the file does not exist: 0."""
    try:
        with open("/proc/net/tls_stat") as f:
            stats = dict(line.split() for line in f if line.strip())
    except FileNotFoundError:
        return 0
    return int(stats.get("TlsTxSw", 0)) + int(stats.get("TlsTxDevice", 0))


def server(wd, pki, ke_port, ntp_port):
    return Daemon(wd, "srv", '[[server]]\nlisten = "127.0.0.1:%d"\n\n[[nts-ke-server]]\n'
                  'listen = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
                  'private-key-path = "%s"\nntp-port = %d\n\n[synchronization]\n'
                  'local-stratum = 1\n' % (ntp_port, ke_port, pki.cert, pki.key, ntp_port))


def t_server_ktls_probe(wd, pki):
    """An exchange with a Python (OpenSSL, no kTLS) probe: only the server
    can have set up kernel TLS, once per exchange."""
    ke_port, ntp_port = free_port(), free_port()
    srv = server(wd, pki, ke_port, ntp_port)
    try:
        before = tls_tx()
        for i in range(2):
            # Generous timeout: the first exchange autoloads tls and its
            # cipher modules, slow under TCG.
            recs, _ = ke_exchange(ke_port, request(), ca=pki.ca, timeout=60)
            check(sum(r[0] == REC_COOKIE for r in recs) == 8, "8 cookies: %r" % recs)
            check(any(r[0] == REC_PORT for r in recs), "port record: %r" % recs)
        after = tls_tx()
        ks = srv.status()["nts_ke_servers"][0]
        print("# TlsTxSw+TlsTxDevice %d -> %d; server %r" % (before, after, ks))
        check(ks["handshakes_ok"] == 2, "two exchanges: %r" % ks)
        check(ks["ktls_send"] == 2 and ks["ktls_active"] is True, "ktls_send: %r" % ks)
        check(ks["ktls_recv"] == 0, "TLS 1.3 receive is not offloaded by OpenSSL 3.0")
        check(after - before == 2, "kernel TLS TX sockets %d -> %d" % (before, after))
        plain = srv.ctl("status")
        check("kTLS: active (send offloaded on 2 exchanges" in plain, "plain status:\n" + plain)
    finally:
        check(srv.stop() == 0, "clean exit")


def t_xntsd_both_ends(wd, pki):
    """xntsd's KE client against its KE server: both ends offload sending."""
    ke_port, ntp_port = free_port(), free_port()
    srv = server(wd, pki, ke_port, ntp_port)
    try:
        before = tls_tx()
        cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n' % (ke_port, pki.ca))
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["state"] in
                              ("done", "failed"), "key exchange", timeout=60)
            ke = st["sources"][0]["nts_ke"]
            check(ke["state"] == "done" and ke["ktls"] is True, "client: %r" % ke)
        finally:
            check(cli.stop() == 0, "client clean exit")
        after = tls_tx()
        ks = srv.status()["nts_ke_servers"][0]
        print("# TlsTxSw+TlsTxDevice %d -> %d; server %r" % (before, after, ks))
        check(ks["ktls_send"] == 1, "server ktls_send: %r" % ks)
        check(after - before == 2, "kernel TLS TX sockets %d -> %d" % (before, after))
    finally:
        check(srv.stop() == 0, "clean exit")


def main():
    if not in_guest():
        print("TAP version 13\n1..0 # not in the VM guest: run through tools/vmtest")
        sys.exit(1)
    tests = [t_server_ktls_probe, t_xntsd_both_ends]
    k = Ktap(len(tests))
    with Workdir() as wd:
        pki = Pki(wd)
        for t in tests:
            with Workdir() as twd:
                k.case(t.__name__[2:], t, twd, pki)
    k.finish()


if __name__ == "__main__":
    main()
