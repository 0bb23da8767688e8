#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""xntsd as an NTS client of ntpd-rs 1.9 (Debian unstable's, unpacked by
tools/fetch-peers). ntpd-rs serves with no sources and local-stratum 1, run
without CAP_SYS_TIME (checked in /proc). The opposite direction, ntpd-rs as
a client, sets the clock and runs in the VM (selftests/vm)."""

import os

from xnts import Daemon, NtpdRs, check, free_port, run_with_pki


def ntpdrs_server(wd, pki, ke_port, ntp_port, keys=None):
    return NtpdRs(wd, "ntpdrs", '[[server]]\nlisten = "127.0.0.1:%d"\n\n'
                  '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
                  'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                  'ntp-port = %d\n\n[synchronization]\nlocal-stratum = 1\n%s'
                  % (ntp_port, ke_port, pki.cert, pki.key, ntp_port,
                     '\n[keyset]\nkey-storage-path = "%s"\n' % keys if keys else ""))


def xntsd_client(wd, host, ke_port, ca):
    return Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "%s:%d"\n'
                  'certificate-authority = "%s"\n'
                  'poll-interval-limits = { min = 0, max = 0 }\n'
                  'initial-poll-interval = 0\n' % (host, ke_port, ca))


def samples(n):
    return lambda s: (s["sources"][0]["associations"] and
                      s["sources"][0]["associations"][0]["received"] >= n)


def client_of_ntpdrs(wd, pki, host):
    ke_port, ntp_port = free_port(), free_port(2)
    nr = ntpdrs_server(wd, pki, ke_port, ntp_port)
    try:
        cli = xntsd_client(wd, host, ke_port, pki.ca)
        try:
            st = cli.wait_for(samples(3), "authenticated samples from ntpd-rs",
                              timeout=30)
            src = st["sources"][0]
            a = src["associations"][0]
            check(src["authenticated"] and src["nts_ke"]["state"] == "done",
                  "NTS source: %r" % src)
            check(a["invalid"] == 0 and a["naks"] == 0 and a["stratum"] == 1 and
                  abs(a["offset"]) < 0.01, "samples: %r" % a)
            # ntpd-rs announces its NTP port in NTS-KE; nothing else serves it
            check(src["nts_ke"]["ntp_port"] == ntp_port and
                  a["address"] == "127.0.0.1:%d" % ntp_port,
                  "port from ntpd-rs's KE followed: %r" % src)
            served = nr.metric("ntp_server_nts_accepted_packets_total")
            check(served >= 3 and
                  nr.metric("ntp_server_nts_nak_packets_total") == 0,
                  "ntpd-rs counted %d NTS answers" % served)
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        nr.stop()


def t_xntsd_nts_client_of_ntpdrs_by_name(wd, pki):
    client_of_ntpdrs(wd, pki, "localhost")


def t_xntsd_nts_client_of_ntpdrs_by_ip(wd, pki):
    client_of_ntpdrs(wd, pki, "127.0.0.1")


def t_ntpdrs_restarts_with_new_keys(wd, pki):
    """ntpd-rs restarted with a new keyset NAKs the cookies it issued
    before; xntsd counts the NAK, does a new key exchange and goes on with
    authenticated samples."""
    ke_port, ntp_port = free_port(), free_port(2)
    keys = os.path.join(wd, "ntpdrs-keys")
    nr = ntpdrs_server(wd, pki, ke_port, ntp_port, keys)
    cli = None
    try:
        cli = xntsd_client(wd, "localhost", ke_port, pki.ca)
        cli.wait_for(samples(2), "samples before the restart", timeout=30)
        nr.stop()
        check(os.path.exists(keys), "ntpd-rs stored its keys")
        os.unlink(keys)
        nr = ntpdrs_server(wd, pki, ke_port, ntp_port, keys)
        st = cli.wait_for(lambda s: s["sources"][0]["nts_ke"]["ok"] >= 2,
                          "a new key exchange after the NAK", timeout=30)
        a = st["sources"][0]["associations"]
        check(a and a[0]["naks"] >= 1, "the NAK was counted: %r" % a)
        before = a[0]["received"]
        st = cli.wait_for(lambda s: s["sources"][0]["associations"] and
                          s["sources"][0]["associations"][0]["received"] >= before + 2,
                          "samples with the new cookies", timeout=30)
        a = st["sources"][0]["associations"][0]
        check(a["invalid"] == 0 and st["sources"][0]["nts_ke"]["failed"] == 0,
              "after the re-key: %r" % st["sources"][0])
        check(nr.metric("ntp_server_nts_accepted_packets_total") >= 2,
              "the new ntpd-rs answered with NTS")
        check(nr.metric("ntp_server_nts_nak_packets_total") >= 1,
              "the new ntpd-rs sent the NAK")
    finally:
        if cli:
            check(cli.stop() == 0, "clean exit")
        nr.stop()


def main():
    run_with_pki([t_xntsd_nts_client_of_ntpdrs_by_name,
                  t_xntsd_nts_client_of_ntpdrs_by_ip,
                  t_ntpdrs_restarts_with_new_keys])


if __name__ == "__main__":
    main()
