#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Interop with chrony 4.3 (Debian's, unpacked, run as chronyd -x)."""

from xnts import Chronyd, Daemon, Ktap, Pki, Workdir, check, free_port


def t_our_ke_client_vs_chrony(wd, pki):
    ke_port, ntp_port = free_port(), free_port()
    ch = Chronyd(wd, "chrony", "ntsserverkey %s\nntsservercert %s\nntsport %d\n"
                 "port %d\nlocal stratum 1\nallow 127.0.0.1\n"
                 % (pki.key, pki.cert, ke_port, ntp_port))
    try:
        cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n' % (ke_port, pki.ca))
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["state"] in
                              ("done", "failed"), "key exchange with chrony")
            ke = st["sources"][0]["nts_ke"]
            check(ke["state"] == "done", "KE with chrony: %r" % ke)
            check(ke["cookies"] == 8 and ke["aead"] == 15, "cookies/AEAD: %r" % ke)
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        ch.stop()


def main():
    tests = [t_our_ke_client_vs_chrony]
    k = Ktap(len(tests))
    with Workdir() as wd:
        pki = Pki(wd)
        for t in tests:
            with Workdir() as twd:
                k.case(t.__name__[2:], t, twd, pki)
    k.finish()


if __name__ == "__main__":
    main()
