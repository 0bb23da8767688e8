#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Interop with chrony 4.3 (Debian's, unpacked, run as chronyd -x)."""

import time

from xnts import run_with_pki, Chronyd, Daemon, check, free_port


def t_our_ke_client_vs_chrony(wd, pki):
    ke_port, ntp_port = free_port(), free_port()
    ch = Chronyd(wd, "chrony", "ntsserverkey %s\nntsservercert %s\nntsport %d\n"
                 "port %d\nlocal stratum 1\nallow 127.0.0.1\n"
                 % (pki.key, pki.cert, ke_port, ntp_port))
    try:
        cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n' % (ke_port, pki.ca))
        try:
            # "done" shows before the result is taken over: wait for the count.
            st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["ok"] +
                              s["sources"][0]["nts_ke"]["failed"] > 0,
                              "key exchange with chrony")
            ke = st["sources"][0]["nts_ke"]
            check(ke["state"] == "done", "KE with chrony: %r" % ke)
            # The first NTP poll may already have spent one cookie.
            check(ke["cookies"] >= 7 and ke["aead"] == 15, "cookies/AEAD: %r" % ke)
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        ch.stop()


def xntsd_server(wd, pki, ntp_port, ke_port):
    return Daemon(wd, "srv", '[[server]]\nlisten = "[::]:%d"\n\n[[nts-ke-server]]\n'
                  'listen = "[::]:%d"\ncertificate-chain-path = "%s"\n'
                  'private-key-path = "%s"\nntp-port = %d\n\n[synchronization]\n'
                  'local-stratum = 1\n' % (ntp_port, ke_port, pki.cert, pki.key, ntp_port))


def t_chrony_nts_client_of_xntsd(wd, pki):
    ke_port, ntp_port = free_port(), free_port(2)
    srv = xntsd_server(wd, pki, ntp_port, ke_port)
    ch = None
    try:
        ch = Chronyd(wd, "chrony", "server localhost iburst nts port %d ntsport %d "
                     "minpoll 0 maxpoll 0\nntstrustedcerts %s\nport 0\n"
                     % (ntp_port, ke_port, pki.ca))
        end = time.time() + 30
        while time.time() < end:
            auth = ch.chronyc("-c", "authdata").strip().splitlines()
            src = ch.chronyc("-c", "sources").strip().splitlines()
            # authdata: name,mode,keyid,type,klen,last,atmp,nak,cook,clen
            a = auth[0].split(",") if auth else []
            s = src[0].split(",") if src else []
            if len(a) >= 10 and len(s) >= 6 and int(s[5], 8) >= 0o7:
                break
            time.sleep(0.5)
        check(a and a[1] == "NTS" and int(a[8]) >= 1 and int(a[7]) == 0,
              "chronyc authdata: %r" % auth)
        check(s and int(s[5], 8) >= 0o7, "chronyc sources reach: %r" % src)
        st = srv.status()
        check(st["ntp_servers"][0]["nts"] >= 3 and st["ntp_servers"][0]["nak"] == 0,
              "xntsd served NTS: %r" % st["ntp_servers"][0])
        check(st["nts_ke_servers"][0]["handshakes_ok"] == 1, "one key exchange")
    finally:
        if ch:
            ch.stop()
        srv.stop()


def t_xntsd_nts_client_of_chrony(wd, pki):
    ke_port, ntp_port = free_port(), free_port(2)
    ch = Chronyd(wd, "chrony", "ntsserverkey %s\nntsservercert %s\nntsport %d\n"
                 "port %d\nlocal stratum 1\nallow 127.0.0.1\nallow ::1\n"
                 % (pki.key, pki.cert, ke_port, ntp_port))
    try:
        cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\n'
                     'initial-poll-interval = 0\n' % (ke_port, pki.ca))
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["associations"] and
                              s["sources"][0]["associations"][0]["received"] >= 3,
                              "authenticated samples from chrony", timeout=30)
            a = st["sources"][0]["associations"][0]
            check(a["invalid"] == 0 and a["stratum"] == 1 and abs(a["offset"]) < 0.01,
                  "samples: %r" % a)
            check(st["sources"][0]["nts_ke"]["ntp_port"] == ntp_port,
                  "chrony's port negotiation honoured: %r" % st["sources"][0]["nts_ke"])
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        ch.stop()


def main():
    tests = [t_our_ke_client_vs_chrony, t_chrony_nts_client_of_xntsd,
             t_xntsd_nts_client_of_chrony]
    run_with_pki(tests)


if __name__ == "__main__":
    main()
