#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the VM (run by test_xntsd_nts.sh): xntsd with the kernel module
xnts_siv loaded runs the NTS variant of the XDP program and says so in its
status; chronyd -x as an NTS client over veth gets its NTS exchanges
answered by XDP (the nts_answered counter covers every response chrony
received), also when the cookies were sealed by another xntsd (a KE host)
and the XDP host has only the shared secret. Reuses the network-test
helpers of selftests/net."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))

from xnts import (BUILD, CHRONYD, Chronyd, Daemon, Ktap, Pki, Workdir, check)  # noqa: E402
from test_xdp import SRV4, Net, conf, start, xdp  # noqa: E402

KO = os.path.join(BUILD, "selftests", "vm", "xnts_siv", "kmod", "xnts_siv.ko")


def in_guest():
    with open("/proc/cmdline") as f:
        return "xnts_vm=1" in f.read().split()


def module_loaded():
    return os.path.exists("/sys/module/xnts_siv")


def load_module():
    if not module_loaded():
        subprocess.run(["modprobe", "aesni_intel"], capture_output=True)
        subprocess.run(["insmod", KO], check=True, capture_output=True)


def nts_conf(net, pki):
    return conf(net) + ('\n[[nts-ke-server]]\nlisten = "%s:4460"\n'
                        'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                        % (SRV4, pki.cert, pki.key))


def t_variant_nts(wd):
    load_module()
    net = Net("ntsv")
    d = None
    try:
        d = start(wd, net, "v", conf(net))
        st = xdp(d)
        check(st["variant"] == "nts", "variant %r: %r" % (st["variant"], st["variant_note"]))
        check("xnts_siv loaded" in st["variant_note"], "note %r" % st["variant_note"])
        check(d.stop() == 0, "clean exit")
        d = None
    finally:
        if d:
            d.stop()
        net.close()


def t_chronyd_nts_over_xdp(wd):
    load_module()
    pki = Pki(wd)
    key, cert = pki.issue("xdpsrv", san="IP:%s" % SRV4)
    pki.key, pki.cert = key, cert
    net = Net("ntsc")
    d = c = None
    try:
        d = start(wd, net, "n", nts_conf(net, pki))
        st = xdp(d)
        check(st["variant"] == "nts" and not st["nts_keys_error"],
              "variant %r, keys %r" % (st["variant"], st["nts_keys_error"]))
        c = Chronyd(wd, "ntscli", "server %s iburst nts minpoll -2 maxpoll -2\n"
                    "ntstrustedcerts %s\n" % (SRV4, pki.ca), prefix=net.prefix(net.cli))
        end = time.time() + 60
        rx = 0
        nd = ""
        while time.time() < end:
            nd = c.chronyc("ntpdata", SRV4)
            m = re.search(r"^Total RX\s*:\s*(\d+)", nd, re.M)
            rx = int(m.group(1)) if m else 0
            if rx >= 4:
                break
            time.sleep(0.5)
        check(rx >= 4, "chrony got %d responses:\n%s\n%s\nxntsd:\n%s"
              % (rx, nd, c.logtext(), d.logtext()[-3000:]))
        auth = c.chronyc("authdata")
        check(re.search(r"%s\s+NTS\s+1\s+15" % re.escape(SRV4), auth),
              "chrony authdata shows NTS with AEAD 15:\n" + auth)
        c.stop()
        c = None
        cnt = xdp(d)["counters"]
        check(cnt["nts_answered"] >= rx,
              "XDP answered %d NTS requests, chrony got %d" % (cnt["nts_answered"], rx))
        check(cnt["nts_nak_key"] + cnt["nts_nak_cookie"] + cnt["nts_nak_auth"] == 0,
              "no NAKs: %r" % cnt)
        check(d.stop() == 0, "clean exit")
        d = None
    finally:
        if c:
            c.stop()
        if d:
            d.stop()
        net.close()


def t_shared_secret_over_xdp(wd):
    """The XDP key map gets the keys derived from a shared secret: cookies a
    KE-only host sealed (in the client's namespace) open in XDP on the
    NTP-only host, across rotation periods of 4 s."""
    load_module()
    pki = Pki(wd)
    sec = os.path.join(wd, "fleet.secret")
    fd = os.open(sec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    ks = ('[keyset]\nshared-secret-path = "%s"\nkey-rotation-interval = 4\n'
          'stale-key-count = 4\n' % sec)
    net = Net("ntss")
    d = ke = c = None
    try:
        d = start(wd, net, "s", conf(net) + ks)
        st = xdp(d)
        check(st["variant"] == "nts" and not st["nts_keys_error"],
              "variant %r, keys %r" % (st["variant"], st["nts_keys_error"]))
        ke = Daemon(wd, "ke", '[[nts-ke-server]]\nlisten = "127.0.0.1:4460"\n'
                    'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                    'ntp-server = "%s"\n\n%s' % (pki.cert, pki.key, SRV4, ks),
                    prefix=net.prefix(net.cli))
        check(ke.status()["keyset"]["fingerprint"] == d.status()["keyset"]["fingerprint"],
              "one secret")
        p0 = d.status()["keyset"]["period"]
        c = Chronyd(wd, "sscli", "server localhost iburst nts minpoll -2 maxpoll -2\n"
                    "ntstrustedcerts %s\n" % pki.ca, prefix=net.prefix(net.cli))
        end = time.time() + 60
        rx = 0
        nd = ""
        while time.time() < end:
            try:
                # Known to chronyc only once NTS-KE named the NTP host.
                nd = c.chronyc("ntpdata", SRV4)
            except subprocess.CalledProcessError:
                nd = ""
            m = re.search(r"^Total RX\s*:\s*(\d+)", nd, re.M)
            rx = int(m.group(1)) if m else 0
            if rx >= 12 and d.status()["keyset"]["period"] >= p0 + 2:
                break
            time.sleep(0.5)
        check(rx >= 12, "chrony got %d responses:\n%s\n%s" % (rx, nd, c.logtext()))
        auth = c.chronyc("-c", "authdata").strip().split(",")
        check(auth[1] == "NTS" and auth[7] == "0", "chrony NTS, no NAK: %r" % auth)
        c.stop()
        c = None
        cnt = xdp(d)["counters"]
        check(cnt["nts_answered"] >= rx,
              "XDP answered %d NTS requests, chrony got %d" % (cnt["nts_answered"], rx))
        check(cnt["nts_nak_key"] + cnt["nts_nak_cookie"] + cnt["nts_nak_auth"] == 0,
              "no NAKs across periods: %r" % cnt)
        check(d.status()["keyset"]["period"] >= p0 + 2, "two periods crossed")
    finally:
        for p in (c, ke, d):
            if p:
                p.stop()
        net.close()


def main():
    tests = [t_variant_nts, t_chronyd_nts_over_xdp, t_shared_secret_over_xdp]
    k = Ktap(len(tests))
    if not in_guest():
        for t in tests:
            k.n += 1
            print("not ok %d %s # only in the VM" % (k.n, t.__name__))
        k.finish()
        return
    check(os.path.exists(CHRONYD), "chrony unpacked")
    with Workdir() as wd:
        for t in tests:
            k.case(t.__name__, t, wd)
    k.finish()


if __name__ == "__main__":
    main()
