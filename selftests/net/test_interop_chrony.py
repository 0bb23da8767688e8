#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Interop with chrony 4.3 (Debian's, unpacked, run as chronyd -x), and with
chrony 4.9 (Debian unstable's, run through unstable's loader) negotiating
AES-128-GCM-SIV (AEAD 30) both ways, with RFC 8915 keys through chrony's
record 1024 (Documentation/nts-ke.md)."""

import time

from xnts import (run_with_pki, Chronyd, Daemon, check, free_port, CHRONYC49,
                  CHRONYD49)


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


def xntsd_server(wd, pki, ntp_port, ke_port, name="srv", ke_extra=""):
    return Daemon(wd, name, '[[server]]\nlisten = "[::]:%d"\n\n[[nts-ke-server]]\n'
                  'listen = "[::]:%d"\ncertificate-chain-path = "%s"\n'
                  'private-key-path = "%s"\nntp-port = %d\n%s\n[synchronization]\n'
                  'local-stratum = 1\n' % (ntp_port, ke_port, pki.cert, pki.key, ntp_port,
                                            ke_extra))


def chrony_authdata(ch, want_reach=0o7, timeout=30):
    """Wait until chrony (4.3 or 4.9) reached its NTS source want_reach;
    returns the authdata and sources rows (lists of CSV fields)."""
    end = time.time() + timeout
    a, s = [], []
    while time.time() < end:
        auth = ch.chronyc("-c", "authdata").strip().splitlines()
        src = ch.chronyc("-c", "sources").strip().splitlines()
        # authdata: name,mode,keyid,type,klen,last,atmp,nak,cook,clen
        a = auth[0].split(",") if auth else []
        s = src[0].split(",") if src else []
        if len(a) >= 10 and len(s) >= 6 and int(s[5], 8) >= want_reach:
            break
        time.sleep(0.5)
    return a, s


def chrony_server(wd, pki, name, ke_port, ntp_port, **kw):
    return Chronyd(wd, name, "ntsserverkey %s\nntsservercert %s\nntsport %d\n"
                   "port %d\nlocal stratum 1\nallow 127.0.0.1\nallow ::1\n"
                   % (pki.key, pki.cert, ke_port, ntp_port), **kw)


def chrony_client_of_xntsd(wd, pki, name, check_auth, srv_name="srv", ke_extra="",
                           want_reach=0o7, **kw):
    """chronyd (4.3, or 4.9 through kw) as an NTS client of an xntsd server;
    check_auth(authdata, sources, server) judges what chrony reached."""
    ke_port, ntp_port = free_port(), free_port(2)
    srv = xntsd_server(wd, pki, ntp_port, ke_port, srv_name, ke_extra)
    ch = None
    try:
        ch = Chronyd(wd, name, "server localhost iburst nts port %d ntsport %d "
                     "minpoll 0 maxpoll 0\nntstrustedcerts %s\nport 0\n"
                     % (ntp_port, ke_port, pki.ca), **kw)
        a, s = chrony_authdata(ch, want_reach=want_reach)
        check_auth(a, s, srv)
    finally:
        if ch:
            ch.stop()
        srv.stop()


def xntsd_client_of_chrony(wd, pki, name, ch_name, what, check_source, **kw):
    """xntsd as an NTS client of chronyd (4.3, or 4.9 through kw), polling
    every second; check_source(source status, chrony's NTP port) once 3
    samples came in."""
    ke_port, ntp_port = free_port(), free_port(2)
    ch = chrony_server(wd, pki, ch_name, ke_port, ntp_port, **kw)
    try:
        cli = Daemon(wd, name, '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\n'
                     'initial-poll-interval = 0\n' % (ke_port, pki.ca))
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["associations"] and
                              s["sources"][0]["associations"][0]["received"] >= 3,
                              "authenticated samples from " + what, timeout=30)
            src = st["sources"][0]
            a = src["associations"][0]
            check(a["invalid"] == 0 and a["naks"] == 0 and a["stratum"] == 1 and
                  abs(a["offset"]) < 0.01, "samples: %r" % a)
            check_source(src, ntp_port)
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        ch.stop()


def served_nts(srv):
    st = srv.status()
    check(st["ntp_servers"][0]["nts"] >= 3 and st["ntp_servers"][0]["nak"] == 0,
          "xntsd served NTS: %r" % st["ntp_servers"][0])
    check(st["nts_ke_servers"][0]["handshakes_ok"] == 1, "one key exchange")


def t_chrony_nts_client_of_xntsd(wd, pki):
    def auth(a, s, srv):
        check(a and a[1] == "NTS" and int(a[8]) >= 1 and int(a[7]) == 0,
              "chronyc authdata: %r" % a)
        check(s and int(s[5], 8) >= 0o7, "chronyc sources reach: %r" % s)
        served_nts(srv)
    chrony_client_of_xntsd(wd, pki, "chrony", auth)


def t_xntsd_nts_client_of_chrony(wd, pki):
    def source(src, ntp_port):
        check(src["nts_ke"]["ntp_port"] == ntp_port,
              "chrony's port negotiation honoured: %r" % src["nts_ke"])
    xntsd_client_of_chrony(wd, pki, "cli", "chrony", "chrony", source)


def t_chrony49_nts_client_of_xntsd(wd, pki):
    # chrony 4.9 offers 30 then 15 and sends record 1024; we pick 30 and
    # derive RFC 8915 keys. A NAK-free run with 68-byte cookies shows both.
    def auth(a, s, srv):
        check(len(a) >= 10 and a[1] == "NTS" and a[3] == "30" and a[4] == "128",
              "chrony 4.9 negotiated AEAD 30: %r" % a)
        check(int(a[7]) == 0 and int(a[8]) >= 1 and a[9] == "68",
              "no NAK, 68-byte cookies: %r" % a)
        check(s and int(s[5], 8) >= 0o7, "chronyc sources reach: %r" % s)
        served_nts(srv)
    chrony_client_of_xntsd(wd, pki, "chrony49", auth, chronyd=CHRONYD49, chronyc=CHRONYC49)


def t_chrony49_falls_back_to_15(wd, pki):
    # With aead-algorithms = [15], chrony 4.9 gets 15 and 100-byte cookies.
    def auth(a, s, srv):
        check(len(a) >= 10 and a[3] == "15" and a[4] == "256" and a[9] == "100" and
              int(a[7]) == 0, "chrony 4.9 on AEAD 15: %r" % a)
    chrony_client_of_xntsd(wd, pki, "chrony49b", auth, "srv15", "aead-algorithms = [15]\n",
                           want_reach=0o3, chronyd=CHRONYD49, chronyc=CHRONYC49)


def t_xntsd_nts_client_of_chrony49(wd, pki):
    # chrony 4.9's server prefers 30 and answers our record 1024 with its
    # own: RFC 8915 keys, authenticated samples, no NAK.
    def source(src, ntp_port):
        check(src["nts_ke"]["aead"] == 30, "AEAD 30 with chrony 4.9: %r" % src["nts_ke"])
    xntsd_client_of_chrony(wd, pki, "cli49", "chrony49s", "chrony 4.9", source,
                           chronyd=CHRONYD49, chronyc=CHRONYC49)


def main():
    tests = [t_our_ke_client_vs_chrony, t_chrony_nts_client_of_xntsd,
             t_xntsd_nts_client_of_chrony, t_chrony49_nts_client_of_xntsd,
             t_chrony49_falls_back_to_15, t_xntsd_nts_client_of_chrony49]
    run_with_pki(tests)


if __name__ == "__main__":
    main()
