#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""xntsd with the XDP fast path on a veth pair between two network
namespaces that each test creates and deletes: attach in native and generic
mode, answers checked field by field by an independent client (a Python UDP
socket created inside the client namespace), chronyd -x as a client, a
restart that keeps serving, the fail-safe after SIGKILL (LI=3 or pass), an
interface that is deleted and re-created, and detaching on shutdown."""

import ctypes
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

from xnts import (BUILD, CHRONYC, CHRONYD, Chronyd, Daemon, Ktap, Workdir, check,
                  run)

BPF_OBJ = os.path.join(BUILD, "bpf", "xnts.bpf.o")
CLONE_NEWNET = 0x40000000
NTP_UNIX = 2208988800
SRV4, CLI4 = "10.199.0.1", "10.199.0.2"
SRV6, CLI6 = "fd00:199::1", "fd00:199::2"
SRV_IF, CLI_IF = "xs0", "xc0"
_libc = ctypes.CDLL(None, use_errno=True)
COUNTERS = ("answered", "stale_unsync", "rate_limited", "denied", "ignored", "passed_nts",
            "passed_other", "passed_unsupported", "passed_invalid", "stale_pass",
            "passed_busy", "nts_answered", "nts_nak_key", "nts_nak_cookie", "nts_nak_auth",
            "nts_error", "redirected_xsk")


class Net:
    """Namespaces <tag>-s (server) and <tag>-c (client) joined by a veth
    pair. The client end has the XDP program with an empty config (it passes
    everything), which veth needs for XDP_TX frames to arrive, and transmit
    checksum offload off, so that its requests carry full checksums."""

    def __init__(self, tag, veth=True):
        self.tag = "xnts-t-%d-%s" % (os.getpid(), tag)
        self.srv = self.tag + "-s"
        self.cli = self.tag + "-c"
        self.pin = "/sys/fs/bpf/" + self.tag
        run("ip", "netns", "add", self.srv)
        try:
            run("ip", "netns", "add", self.cli)
            for ns in (self.srv, self.cli):
                run("ip", "-n", ns, "link", "set", "lo", "up")
            if veth:
                self.make_veth()
        except Exception:
            self.close()
            raise

    def make_veth(self):
        run("ip", "-n", self.srv, "link", "add", SRV_IF, "type", "veth", "peer", "name",
            CLI_IF, "netns", self.cli)
        run("ip", "-n", self.srv, "addr", "add", SRV4 + "/24", "dev", SRV_IF)
        run("ip", "-n", self.srv, "addr", "add", SRV6 + "/64", "dev", SRV_IF, "nodad")
        run("ip", "-n", self.cli, "addr", "add", CLI4 + "/24", "dev", CLI_IF)
        run("ip", "-n", self.cli, "addr", "add", CLI6 + "/64", "dev", CLI_IF, "nodad")
        for ns, dev in ((self.srv, SRV_IF), (self.cli, CLI_IF)):
            run("ip", "-n", ns, "link", "set", dev, "mtu", "1500", "up")
        run("ip", "netns", "exec", self.cli, "ethtool", "-K", CLI_IF, "tx", "off")
        run("ip", "-n", self.cli, "link", "set", "dev", CLI_IF, "xdpdrv", "obj", BPF_OBJ,
            "sec", "xdp")

    def close(self):
        for ns in (self.srv, self.cli):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        # Pins left by a daemon that was killed or kept serving.
        shutil.rmtree(self.pin, ignore_errors=True)

    def prefix(self, ns=None):
        return ("nsenter", "--net=/run/netns/" + (ns or self.srv))

    def xdp_on_server(self):
        """(prog id, 'xdp' or 'xdpgeneric') on the server's veth, or None."""
        out = run("ip", "-n", self.srv, "link", "show", SRV_IF).stdout
        mode = re.search(r" mtu \d+ (xdp\w*) ", out)
        prog = re.search(r"prog/xdp id (\d+)", out)
        return (int(prog.group(1)), mode.group(1)) if mode and prog else None

    def snmp_udp(self):
        out = run("ip", "netns", "exec", self.srv, "cat", "/proc/net/snmp").stdout
        rows = [line.split() for line in out.splitlines() if line.startswith("Udp:")]
        return dict(zip(rows[0][1:], map(int, rows[1][1:])))


def socket_in(ns, family=socket.AF_INET):
    """A UDP socket that lives in network namespace ns."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    tgt = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(tgt, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        try:
            return socket.socket(family, socket.SOCK_DGRAM)
        finally:
            if _libc.setns(own, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(tgt)


def ntp_to_unix(v):
    return (v >> 32) - NTP_UNIX + (v & 0xffffffff) / 2**32


def query(sock, addr, timeout=1.0, version=4):
    """One mode 3 request; the parsed response, or None on timeout."""
    xmt = struct.unpack(">Q", os.urandom(8))[0] | 1
    req = struct.pack(">BBbb", (version << 3) | 3, 0, 6, -20) + bytes(36) + \
        struct.pack(">Q", xmt)
    sock.settimeout(timeout)
    t0 = time.time()
    sock.sendto(req, (addr, 123))
    end = t0 + timeout
    while True:
        try:
            sock.settimeout(max(end - time.time(), 0.001))
            data, _ = sock.recvfrom(512)
        except socket.timeout:
            return None
        t1 = time.time()
        if len(data) >= 48 and struct.unpack(">Q", data[24:32])[0] == xmt:
            break
    li_vn_mode, stratum, poll, prec = struct.unpack(">BBbb", data[:4])
    rdel, rdisp = struct.unpack(">II", data[4:12])
    ref, org, rec, tx = struct.unpack(">QQQQ", data[16:48])
    return dict(len=len(data), li=li_vn_mode >> 6, vn=(li_vn_mode >> 3) & 7,
                mode=li_vn_mode & 7, stratum=stratum, poll=poll, precision=prec,
                root_delay=rdel, root_dispersion=rdisp, refid=data[12:16], ref=ref,
                origin=org, xmt=xmt, rec=ntp_to_unix(rec), tx=ntp_to_unix(tx), rec_raw=rec, tx_raw=tx,
                t0=t0, t1=t1)


def check_answer(r, li, stratum, refid, version=4, precision=None):
    check(r is not None, "no answer")
    check(r["len"] == 48, "length %d" % r["len"])
    check(r["mode"] == 4 and r["vn"] == version, "mode %d version %d" % (r["mode"], r["vn"]))
    check(r["li"] == li and r["stratum"] == stratum,
          "LI %d stratum %d, expected %d/%d" % (r["li"], r["stratum"], li, stratum))
    check(r["refid"] == refid, "refid %r" % r["refid"])
    check(r["origin"] == r["xmt"], "origin is not our transmit timestamp")
    check(r["poll"] == 6, "poll echoed: %d" % r["poll"])
    if precision is not None:
        check(r["precision"] == precision, "precision %d, status says %d"
              % (r["precision"], precision))
    # This host's TAI offset is 0; the program subtracts what adjtimex says.
    slack = 0.05
    check(r["rec_raw"] <= r["tx_raw"], "transmit before receive")
    check(r["t0"] - slack <= r["rec"] <= r["tx"] <= r["t1"] + slack,
          "timestamps outside the exchange: %.6f %.6f %.6f %.6f"
          % (r["t0"], r["rec"], r["tx"], r["t1"]))


def conf(net, stratum=2, mode="native", extra="", servers=("0.0.0.0:123",),
         ifaces=(SRV_IF,)):
    c = "".join('[[server]]\nlisten = "%s"\n' % s for s in servers)
    c += ('[synchronization]\nlocal-stratum = %d\nreference-id = "XTST"\n'
          '[xdp]\ninterfaces = [%s]\nmode = "%s"\npin-path = "%s"\n%s'
          % (stratum, ", ".join('"%s"' % i for i in ifaces), mode, net.pin, extra))
    return c


def xdp(d):
    return d.status()["xdp"]


def counters(d):
    return xdp(d)["counters"]


def start(wd, net, name, config):
    return Daemon(wd, name, config, prefix=net.prefix())


def t_native_answers(wd):
    net = Net("native")
    d = None
    try:
        d = start(wd, net, "native", conf(net))
        x = xdp(d)
        check(x["loaded"] and x["ports"] == [123], "loaded, port 123: %r" % x)
        i = x["interfaces"][0]
        check(i["mode"] == "native" and i["prog_id"] == x["prog_id"] > 0,
              "interface status %r" % i)
        check(net.xdp_on_server() == (x["prog_id"], "xdp"),
              "native program on the veth: %r" % (net.xdp_on_server(),))
        check(os.path.exists(os.path.join(net.pin, "links", SRV_IF)), "link pinned")
        udp0 = net.snmp_udp()
        before = counters(d)["answered"]
        s4 = socket_in(net.cli)
        s6 = socket_in(net.cli, socket.AF_INET6)
        n = 0
        for k in range(20):
            r = query(s4, SRV4, version=3 if k % 5 == 0 else 4)
            check_answer(r, 0, 2, b"XTST", version=3 if k % 5 == 0 else 4,
                         precision=x["time"]["precision"])
            # A local reference: its reference timestamp is the current time,
            # as fresh as the last heartbeat's copy of the daemon's state.
            ref = ntp_to_unix(r["ref"])
            check(r["t0"] - x["heartbeat_interval_ms"] / 1000.0 - 1.5 <= ref <= r["tx"],
                  "reference timestamp %.3f, sent %.3f" % (ref, r["t0"]))
            n += 1
            check_answer(query(s6, SRV6), 0, 2, b"XTST")
            n += 1
        s4.close()
        s6.close()
        c = counters(d)
        check(c["answered"] - before == n, "answered counter %d, responses %d"
              % (c["answered"] - before, n))
        check(c["stale_unsync"] == 0 and c["passed_busy"] == 0, "counters %r" % c)
        check(sorted(c) == sorted(COUNTERS), "every counter shown: %r" % sorted(c))
        # Prometheus shows every XDP counter, by name, with the same values.
        prom = {}
        for line in d.ctl("status", "-f", "prometheus").splitlines():
            if line.startswith('xnts_xdp_packets_total{outcome="'):
                k, v = line.rsplit(" ", 1)
                prom[k[len('xnts_xdp_packets_total{outcome="'):-2]] = int(v)
        check(prom == c, "prometheus %r, status %r" % (prom, c))
        # The host kernel cannot load modules: the plain variant, and why.
        st = xdp(d)
        check(st.get("variant") == "plain" and "not loaded" in st.get("variant_note", ""),
              "variant %r: %r" % (st.get("variant"), st.get("variant_note")))
        udp1 = net.snmp_udp()
        # The server's stack never saw the requests: XDP answered them all.
        check(all(udp1[k] == udp0[k] for k in ("InDatagrams", "NoPorts", "InErrors")),
              "server UDP stack moved: %r -> %r" % (udp0, udp1))
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "detached on shutdown")
        check(not os.path.exists(net.pin), "pins removed on shutdown")
    finally:
        if d:
            d.stop()
        net.close()


def t_generic_unsynchronised(wd):
    net = Net("generic")
    d = None
    try:
        # local-stratum 16: the clock is unsynchronised, so LI=3.
        d = start(wd, net, "generic", conf(net, stratum=16, mode="generic"))
        x = xdp(d)
        check(x["interfaces"][0]["mode"] == "generic", "status %r" % x["interfaces"])
        check(net.xdp_on_server() == (x["prog_id"], "xdpgeneric"),
              "generic program: %r" % (net.xdp_on_server(),))
        s = socket_in(net.cli)
        for _ in range(5):
            check_answer(query(s, SRV4), 3, 16, b"XTST")
        s.close()
        check(counters(d)["answered"] == 5, "counters %r" % counters(d))
    finally:
        if d:
            check(d.stop() == 0, "clean exit")
        net.close()


def t_attach_failures(wd):
    net = Net("fail")
    d = None
    try:
        # lo has no native XDP; "absent0" does not exist. The daemon goes on.
        d = start(wd, net, "fail", conf(net, ifaces=("lo", "absent0", SRV_IF)))
        ifs = {i["name"]: i for i in xdp(d)["interfaces"]}
        check(ifs["lo"]["mode"] == "failed" and "native" in ifs["lo"]["reason"],
              "lo: %r" % ifs["lo"])
        check(ifs["absent0"]["mode"] == "failed" and
              "no such interface" in ifs["absent0"]["reason"], "absent0: %r" % ifs["absent0"])
        check(ifs[SRV_IF]["mode"] == "native", "%s: %r" % (SRV_IF, ifs[SRV_IF]))
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
        check("lo: the driver has no native XDP" in d.logtext(), "error logged")
        plain = d.ctl("status")
        check("lo: failed: " in plain and "%s: native" % SRV_IF in plain,
              "plain status:\n" + plain)
        check(d.stop() == 0, "clean exit")
        d = None
        # Another program already on the interface is left alone.
        run("ip", "-n", net.srv, "link", "set", "dev", SRV_IF, "xdpdrv", "obj", BPF_OBJ,
            "sec", "xdp")
        foreign = net.xdp_on_server()
        d = start(wd, net, "fail2", conf(net))
        i = xdp(d)["interfaces"][0]
        check(i["mode"] == "failed" and "another XDP program (id %d)" % foreign[0]
              in i["reason"], "busy: %r" % i)
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() == foreign, "foreign program untouched")
    finally:
        if d:
            d.stop()
        net.close()


def t_chronyd_client(wd):
    check(os.path.exists(CHRONYD) and os.path.exists(CHRONYC), "chrony unpacked")
    net = Net("chrony")
    d = c = ours = None
    try:
        d = start(wd, net, "chr", conf(net))
        # Our own client too, in the client namespace.
        ours = Daemon(wd, "ourcli", '[[source]]\nmode = "server"\naddress = "%s:123"\n'
                      'poll-interval-limits = { min = 0, max = 0 }\n'
                      'initial-poll-interval = 0\n' % SRV4, prefix=net.prefix(net.cli))
        c = Chronyd(wd, "xdpcli", "server %s iburst minpoll -2 maxpoll -2\n" % SRV4,
                    prefix=net.prefix(net.cli))
        end = time.time() + 20
        reach = 0
        while time.time() < end:
            out = c.chronyc("sources")
            m = re.search(r"^\S+\s+%s\s+(\d+)\s+(-?\d+)\s+(\d+)" % re.escape(SRV4), out,
                          re.M)
            if m:
                reach = int(m.group(3), 8)
                if bin(reach).count("1") >= 3:
                    break
            time.sleep(0.3)
        check(bin(reach).count("1") >= 3, "reach %o:\n%s\n%s" % (reach, out, c.logtext()))
        nd = c.chronyc("ntpdata", SRV4)
        check(re.search(r"^Stratum\s*:\s*2$", nd, re.M), "ntpdata stratum:\n" + nd)
        check(re.search(r"^Reference ID\s*:\s*58545354", nd, re.M), "refid XTST:\n" + nd)
        check(re.search(r"^Mode\s*:\s*Server", nd, re.M), "mode:\n" + nd)
        m = re.search(r"^Total RX\s*:\s*(\d+)", nd, re.M)
        check(m and int(m.group(1)) >= 3, "chrony received responses:\n" + nd)
        st = ours.wait_for(lambda x: x["sources"][0]["associations"] and
                           x["sources"][0]["associations"][0]["received"] >= 3,
                           "samples for xntsd's client")
        a = st["sources"][0]["associations"][0]
        check(a["stratum"] == 2 and a["invalid"] == 0, "xntsd client: %r" % a)
        check(ours.stop() == 0, "client clean exit")
        got = int(m.group(1)) + a["received"]
        ours = None
        ans = counters(d)["answered"]
        check(ans >= got, "XDP answered %d, clients got %d" % (ans, got))
        # The daemon's userspace server on the same port never saw a request.
        us = d.status()["ntp_servers"][0]
        check(us["received"] == 0, "userspace server counters moved: %r" % us)
    finally:
        if ours:
            ours.stop()
        if c:
            c.stop()
        if d:
            check(d.stop() == 0, "clean exit")
        net.close()


class Prober(threading.Thread):
    """Queries every 20 ms until stopped; records (LI, stratum) or None."""

    def __init__(self, net):
        super().__init__(daemon=True)
        self.sock = socket_in(net.cli)
        self.results = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            r = query(self.sock, SRV4, timeout=0.3)
            self.results.append(None if r is None else (r["li"], r["stratum"]))
            time.sleep(0.02)

    def stop(self):
        self.halt.set()
        self.join(5)
        self.sock.close()
        return self.results


def t_restart_keeps_serving(wd):
    net = Net("restart")
    d = None
    p = None
    try:
        keep = "keep-serving-on-exit = true\n"
        d = start(wd, net, "r1", conf(net, extra=keep))
        x1 = xdp(d)
        p = Prober(net)
        p.start()
        time.sleep(0.3)
        check(d.stop() == 0, "clean exit")
        d = None
        # Between the two daemons the pinned link keeps the program attached.
        check(net.xdp_on_server() == (x1["prog_id"], "xdp"), "still attached while down")
        time.sleep(0.3)
        n_down = len(p.results)
        d = start(wd, net, "r2", conf(net))
        x2 = xdp(d)
        time.sleep(0.3)
        res = p.stop()
        p = None
        check(len(res) > 15 and n_down > 5, "probes: %d" % len(res))
        check(all(r == (0, 2) for r in res), "every probe answered in sync: %r" % res)
        check(x2["prog_reused"] and x2["maps_reused"] and x2["prog_id"] == x1["prog_id"],
              "pinned program and maps reused: %r" % x2)
        i2 = x2["interfaces"][0]
        check(i2["link_reused"] and i2["link_id"] == x1["interfaces"][0]["link_id"] and
              i2["attaches"] == 0, "pinned link kept: %r" % i2)
        # The counters live in the reused map, so they cover both daemons.
        check(counters(d)["answered"] >= len(res), "answered %d, probes %d"
              % (counters(d)["answered"], len(res)))
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "second daemon (no keep-serving) detached")
    finally:
        if p:
            p.stop()
        if d:
            d.stop()
        net.close()


def t_upgrade_swaps_program(wd):
    net = Net("upgrade")
    d = None
    p = None
    try:
        d = start(wd, net, "u1", conf(net, extra="keep-serving-on-exit = true\n"))
        x1 = xdp(d)
        p = Prober(net)
        p.start()
        time.sleep(0.2)
        check(d.stop() == 0, "clean exit")
        d = None
        # A different rate-limiter size changes xnts_rate's shape: the pinned
        # maps cannot be reused, so a new program with new maps replaces the
        # old one in the pinned link, atomically.
        c2 = conf(net).replace('listen = "0.0.0.0:123"\n',
                               'listen = "0.0.0.0:123"\nrate-limiting-cache-size = 1000\n')
        d = start(wd, net, "u2", c2)
        x2 = xdp(d)
        time.sleep(0.2)
        res = p.stop()
        p = None
        check(len(res) > 10 and all(r == (0, 2) for r in res),
              "every probe answered in sync: %r" % res)
        check(not x2["maps_reused"] and not x2["prog_reused"] and
              x2["prog_id"] != x1["prog_id"], "new maps and program: %r" % x2)
        i1, i2 = x1["interfaces"][0], x2["interfaces"][0]
        check(i2["link_reused"] and i2["link_id"] == i1["link_id"] and i2["attaches"] == 0,
              "the pinned link was kept: %r" % i2)
        check(net.xdp_on_server() == (x2["prog_id"], "xdp"), "the link runs the new program")
        check("do not match this program" in d.logtext(), "replacement logged")
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "detached")
    finally:
        if p:
            p.stop()
        if d:
            d.stop()
        net.close()


def kill(d):
    d.proc.kill()
    d.proc.wait()
    d.logf.close()


def t_sigkill_unsync(wd):
    net = Net("kill-u")
    d = None
    try:
        cfg = conf(net, extra='heartbeat-timeout-ms = 400\nstale-action = "unsync"\n')
        d = start(wd, net, "ku", cfg)
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        kill(d)
        d = None
        check(net.xdp_on_server() is not None, "a killed daemon cannot detach")
        time.sleep(0.7)
        for _ in range(3):
            check_answer(query(s, SRV4), 3, 16, b"XTST")
        # A new daemon picks the pinned state up and is in sync again.
        d = start(wd, net, "ku2", cfg)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        check(counters(d)["stale_unsync"] == 3, "stale_unsync %r" % counters(d))
        s.close()
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "detached")
    finally:
        if d:
            d.stop()
        net.close()


def t_sigkill_pass(wd):
    net = Net("kill-p")
    d = None
    try:
        cfg = conf(net, extra='heartbeat-timeout-ms = 400\nstale-action = "pass"\n')
        d = start(wd, net, "kp", cfg)
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        kill(d)
        d = None
        time.sleep(0.7)
        udp0 = net.snmp_udp()
        for _ in range(3):
            check(query(s, SRV4, timeout=0.3) is None, "answered while stale in pass mode")
        udp1 = net.snmp_udp()
        # Passed up: the server's stack saw them (nobody listens: NoPorts).
        check(udp1["NoPorts"] - udp0["NoPorts"] == 3, "passed to the stack: %r -> %r"
              % (udp0, udp1))
        d = start(wd, net, "kp2", cfg)
        check(counters(d)["stale_pass"] == 3, "stale_pass %r" % counters(d))
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
    finally:
        if d:
            check(d.stop() == 0, "clean exit")
        net.close()


def t_interface_recreated(wd):
    net = Net("recreate")
    d = None
    try:
        d = start(wd, net, "rc", conf(net))
        i1 = xdp(d)["interfaces"][0]
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        run("ip", "-n", net.srv, "link", "del", SRV_IF)
        st = d.wait_for(lambda st: st["xdp"]["interfaces"][0]["mode"] == "failed",
                        "interface gone")
        check("no such interface" in st["xdp"]["interfaces"][0]["reason"], "reason %r"
              % st["xdp"]["interfaces"][0])
        net.make_veth()
        st = d.wait_for(lambda st: st["xdp"]["interfaces"][0]["mode"] == "native",
                        "re-attached")
        i2 = st["xdp"]["interfaces"][0]
        check(i2["ifindex"] != i1["ifindex"] or i2["link_id"] != i1["link_id"],
              "a new link: %r -> %r" % (i1, i2))
        check(i2["attaches"] == 2 and st["xdp"]["reattaches"] == 1, "counts %r" % i2)
        check(net.xdp_on_server() == (st["xdp"]["prog_id"], "xdp"), "on the new veth")
        s.close()
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "detached")
    finally:
        if d:
            d.stop()
        net.close()


def t_interface_appears_later(wd):
    net = Net("late", veth=False)
    d = None
    try:
        d = start(wd, net, "late", conf(net))
        i = xdp(d)["interfaces"][0]
        check(i["mode"] == "failed" and "no such interface" in i["reason"], "%r" % i)
        net.make_veth()
        st = d.wait_for(lambda st: st["xdp"]["interfaces"][0]["mode"] == "native",
                        "attached once the interface exists")
        check(st["xdp"]["interfaces"][0]["attaches"] == 1, "%r" % st["xdp"])
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is None, "detached")
    finally:
        if d:
            d.stop()
        net.close()


def t_mode_off_cleans_up(wd):
    net = Net("off")
    d = None
    try:
        d = start(wd, net, "on", conf(net, extra="keep-serving-on-exit = true\n"))
        check(d.stop() == 0, "clean exit")
        d = None
        check(net.xdp_on_server() is not None and os.path.isdir(net.pin), "kept serving")
        # Switching XDP off removes what the earlier run left attached.
        d = start(wd, net, "off", conf(net, mode="off"))
        check(d.status()["xdp"] == {"mode": "off"}, "status %r" % d.status()["xdp"])
        check("xdp: off" in d.ctl("status"), "plain status")
        check(net.xdp_on_server() is None, "detached")
        check(not os.path.exists(net.pin), "pins removed")
        check(d.stop() == 0, "clean exit")
        d = None
    finally:
        if d:
            d.stop()
        net.close()


def t_policy(wd):
    net = Net("policy")
    d = None
    try:
        cfgtext = conf(net).replace(
            'listen = "0.0.0.0:123"\n',
            'listen = "0.0.0.0:123"\ndenylist = { filter = ["%s/32"], action = "deny" }\n'
            % CLI4)
        d = start(wd, net, "pol", cfgtext)
        s4 = socket_in(net.cli)
        r = query(s4, SRV4)
        check(r and r["stratum"] == 0 and r["refid"] == b"DENY", "DENY kiss: %r" % r)
        # IPv6 is not on the list.
        s6 = socket_in(net.cli, socket.AF_INET6)
        check_answer(query(s6, SRV6), 0, 2, b"XTST")
        check(counters(d)["denied"] == 1, "denied %r" % counters(d))
        s4.close()
        s6.close()
    finally:
        if d:
            check(d.stop() == 0, "clean exit")
        net.close()


def main():
    tests = [t_native_answers, t_generic_unsynchronised, t_attach_failures,
             t_chronyd_client, t_restart_keeps_serving, t_upgrade_swaps_program,
             t_sigkill_unsync, t_sigkill_pass,
             t_interface_recreated, t_interface_appears_later, t_mode_off_cleans_up,
             t_policy]
    k = Ktap(len(tests))
    with Workdir() as wd:
        for t in tests:
            k.case(t.__name__, t, wd)
    k.finish()


if __name__ == "__main__":
    main()
