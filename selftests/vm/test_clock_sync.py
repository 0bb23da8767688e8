#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the VM only: xntsd's PHC source and its clock discipline on the real
(guest) clock.

- phc_source_virtual: kmod/xnts_swphc.ko at +100 ppm and +0.25 s; xntsd -x
  with a phc source reports the method it fell back to (EXTENDED), the
  offset and the PHC-to-system rate, selects it (stratum 1), and leaves the
  kernel frequency alone.
- phc_by_interface: the phc source finds eth0's PHC (qemu's e1000e, added
  by run_in_vm.sh) through ethtool netlink, and [[server]]
  hardware-timestamps turns the NIC's receive timestamps on (SIOCSHWTSTAMP).
  No packet can reach that NIC (it has no network), so the conversion of
  hardware timestamps is tested on the host (selftests/unit/test_phc.c).
- ntp_virtual_leaves_clock: an NTP server in another network namespace
  serves the guest clock + 50 ms, 50 ppm fast; xntsd -x follows it on its
  virtual clock, and the guest clock and kernel frequency stay unchanged.
- ntp_disciplines_clock: xntsd without -x steps the guest clock to that
  server and steers the kernel frequency (adjtimex) towards +50 ppm.

Measured figures are printed as comments (emulated: TCG)."""

import ctypes
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net"))
import xnts  # noqa: E402
from xnts import Daemon, Ktap, Workdir, check, run  # noqa: E402
from test_privs import check_confined  # noqa: E402

CAP_SYS_TIME = 25

KMOD = os.path.join(xnts.BUILD, "selftests", "vm", "kmod", "xnts_swphc.ko")
NTP_UNIX = 2208988800
DRIFT = 50e-6		# the test server runs this much fast
OFFSET = 0.050		# and starts this far ahead of the guest clock
CLIENT_IF, SERVER_IF = "xs-c", "xs-s"
CLIENT4, SERVER4 = "10.77.0.1", "10.77.0.2"


class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("constant", ctypes.c_long),
                ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
                ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
                ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("pad", ctypes.c_int * 11)]


_libc = ctypes.CDLL(None, use_errno=True)
ADJ_FREQUENCY = 0x0002


def in_guest():
    with open("/proc/cmdline") as f:
        return "xnts_vm=1" in f.read().split()


def adjtimex(modes=0, freq=0):
    tx = Timex()
    tx.modes = modes
    tx.freq = freq
    if _libc.adjtimex(ctypes.byref(tx)) < 0:
        raise OSError(ctypes.get_errno(), "adjtimex")
    return tx


def kernel_freq_ppm():
    return adjtimex().freq / 65536.0


def set_kernel_freq_ppm(ppm):
    # Only ever reached in the guest: main() refuses to run elsewhere.
    adjtimex(ADJ_FREQUENCY, int(round(ppm * 65536)))


CLONE_NEWNET = 0x40000000


def socket_in(ns):
    """A UDP socket that lives in network namespace ns."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    tgt = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(tgt, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        finally:
            if _libc.setns(own, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(tgt)


# ---- the test NTP server ----

class TestServer:
    """NTPv4 server in network namespace ns whose time is the guest's clock
    at start + OFFSET, advancing with CLOCK_MONOTONIC_RAW (which no adjtimex
    changes) DRIFT fast: a reference the discipline can really follow."""

    def __init__(self, ns):
        self.real0 = time.clock_gettime(time.CLOCK_REALTIME)
        self.raw0 = time.clock_gettime(time.CLOCK_MONOTONIC_RAW)
        self.sock = socket_in(ns)
        self.sock.bind((SERVER4, 123))
        self.sock.settimeout(0.2)
        self.stop = False
        self.served = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def now(self):
        raw = time.clock_gettime(time.CLOCK_MONOTONIC_RAW)
        return self.real0 + OFFSET + (raw - self.raw0) * (1 + DRIFT)

    def true_offset(self):
        """Server time - guest clock now: what the daemon should measure.
        The narrowest of a few read windows, so that a preemption between
        the reads (TCG) does not show up as an offset."""
        best = None
        for _ in range(5):
            a = time.clock_gettime(time.CLOCK_REALTIME)
            s = self.now()
            b = time.clock_gettime(time.CLOCK_REALTIME)
            if best is None or b - a < best[0]:
                best = (b - a, s - (a + b) / 2)
        return best[1]

    @staticmethod
    def ntp(t):
        sec = int(t)
        return ((sec + NTP_UNIX) << 32) | int((t - sec) * 2**32)

    def serve(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(1024)
            except socket.timeout:
                continue
            except OSError:
                return
            t2 = self.now()
            if len(data) < 48 or data[0] & 7 != 3:
                continue
            ref = self.ntp(t2 - 1)
            reply = struct.pack(">BBbbIIIQQQQ", (0 << 6) | (4 << 3) | 4, 1, 0, -20, 0, 0,
                                0x58545354, ref, struct.unpack(">Q", data[40:48])[0],
                                self.ntp(t2), self.ntp(self.now()))
            self.sock.sendto(reply, addr)
            self.served += 1

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


class Net:
    """A namespace for the server, joined to ours by a veth pair."""

    def __init__(self):
        self.ns = "xnts-sync-%d" % os.getpid()
        run("ip", "netns", "add", self.ns)
        try:
            run("ip", "link", "add", CLIENT_IF, "type", "veth", "peer", "name", SERVER_IF,
                "netns", self.ns)
            run("ip", "addr", "add", CLIENT4 + "/24", "dev", CLIENT_IF)
            run("ip", "link", "set", CLIENT_IF, "up")
            run("ip", "-n", self.ns, "addr", "add", SERVER4 + "/24", "dev", SERVER_IF)
            run("ip", "-n", self.ns, "link", "set", SERVER_IF, "up")
            run("ip", "-n", self.ns, "link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def close(self):
        subprocess.run(["ip", "link", "del", CLIENT_IF], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


FAST = """
[source-defaults]
poll-interval-limits = { min = 0, max = 0 }
initial-poll-interval = 0

[synchronization]
minimum-agreeing-sources = 1
"""


# ---- PHC ----

def phc_of_module():
    for d in sorted(os.listdir("/sys/class/ptp")):
        with open("/sys/class/ptp/%s/clock_name" % d) as f:
            if f.read().strip() == "xnts_swphc":
                return "/dev/" + d
    raise AssertionError("xnts_swphc registered no PHC")


def phc_source(st):
    for s in st["sources"]:
        if "phc" in s:
            return s
    raise AssertionError("no phc source in status: %s" % json.dumps(st))


def test_phc_source_virtual(wd):
    run("insmod", KMOD, "freq_ppb=100000", "offset_ns=250000000")
    t_load = time.clock_gettime(time.CLOCK_REALTIME)
    try:
        dev = phc_of_module()
        f0 = kernel_freq_ppm()
        d = Daemon(wd, "phc", FAST + '\n[[source]]\nmode = "phc"\npath = "%s"\n' % dev)
        try:
            st = d.wait_for(lambda s: phc_source(s)["phc"]["reads"] >= 10 and
                            s["sync"]["synced"], "10 PHC reads and sync", timeout=60)
            p = phc_source(st)["phc"]
            elapsed = time.clock_gettime(time.CLOCK_REALTIME) - t_load
            want = 0.25 + 100e-6 * elapsed
            print("# phc source (swphc +100 ppm, +0.25 s, -x): method %s, offset %+.6f s "
                  "(expected about %+.6f), delay %.9f s, PHC rate %+.3f ppm, sync stratum "
                  "%d, frequency %+.3f ppm (emulated)" % (
                      p["method"], p["offset"], want, p["delay"], p["map_rate_ppm"],
                      st["sync"]["stratum"], st["sync"]["frequency_ppm"]), flush=True)
            check(p["device"] == dev, "device %s" % p["device"])
            check(p["method"] == "EXTENDED", "fell back to EXTENDED: %s" % p["method"])
            check(p["scale"] == "tai", "default scale tai")
            check(abs(p["offset"] - want) < 0.003, "offset %f, want %f" % (p["offset"], want))
            check(0 <= p["delay"] < 0.001, "delay %f" % p["delay"])
            check(abs(p["map_rate_ppm"] - 100) < 5, "rate %f" % p["map_rate_ppm"])
            check(st["sync"]["stratum"] == 1, "a reference clock makes us stratum 1")
            check(st["sync"]["selected"] == phc_source(st)["associations"][0]["address"],
                  "phc selected: %s" % st["sync"]["selected"])
            plain = d.ctl("status")
            check("PTP_SYS_OFFSET method EXTENDED" in plain, "plain status:\n" + plain)
            check(kernel_freq_ppm() == f0, "-x left the kernel frequency alone")
        finally:
            d.stop()
    finally:
        run("rmmod", "xnts_swphc")


def test_phc_by_interface(wd):
    run("modprobe", "e1000e")
    ptpdir = "/sys/class/net/eth0/device/ptp"
    for _ in range(50):
        if os.path.isdir(ptpdir) and os.listdir(ptpdir):
            break
        time.sleep(0.1)
    idx = int(os.listdir(ptpdir)[0][3:])
    d = Daemon(wd, "ifphc", FAST + '\n[[source]]\nmode = "phc"\ninterface = "eth0"\n'
               'phc-scale = "utc"\n[[server]]\nlisten = "127.0.0.1:12324"\n'
               'hardware-timestamps = "eth0"\n')
    try:
        st = d.wait_for(lambda s: phc_source(s)["phc"]["reads"] >= 2, "2 PHC reads")
        p = phc_source(st)["phc"]
        print("# phc source by interface eth0 (e1000e): %s, index %d, method %s" % (
            p["device"], p["index"], p["method"]), flush=True)
        check(p["index"] == idx, "index %d, sysfs says %d" % (p["index"], idx))
        check(p["device"] == "/dev/ptp%d" % idx, "device %s" % p["device"])
        check(p["interface"] == "eth0" and p["scale"] == "utc", json.dumps(p))
        check(p["method"] == "EXTENDED", "e1000e: EXTENDED after PRECISE: %s" % p["method"])
        # SIOCSHWTSTAMP took, and the server's sockets ask for NIC timestamps.
        check(st["ntp_servers"][0]["hw_phc"] == idx, "hardware timestamps: %s\n%s" % (
            json.dumps(st["ntp_servers"][0]), d.logtext()[-2000:]))
    finally:
        d.stop()
    conf = os.path.join(wd, "noif.toml")
    with open(conf, "w") as f:
        f.write('[[source]]\nmode = "phc"\ninterface = "lo"\n')
    r = subprocess.run([xnts.XNTSD, "-x", "-c", conf], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode != 0 and "no PTP hardware clock" in r.stdout + r.stderr,
          "lo has no PHC: rc %d, %s" % (r.returncode, r.stdout + r.stderr))


# ---- NTP discipline ----

def ntp_config():
    return FAST + '\n[[source]]\nmode = "server"\naddress = "%s"\n' % SERVER4


def test_ntp_virtual(wd, srv):
    f0 = kernel_freq_ppm()
    off0 = srv.true_offset()
    d = Daemon(wd, "ntpx", ntp_config())
    try:
        st = d.wait_for(lambda s: s["sync"]["synced"] and s["sync"]["steps"] >= 1,
                        "virtual sync", timeout=40)
        time.sleep(10)
        st = d.status()
    finally:
        d.stop()
    off1 = srv.true_offset()
    print("# -x: virtual offset %+.6f s, virtual frequency %+.3f ppm, %d steps; guest "
          "clock to server %+.6f -> %+.6f s, kernel frequency %+.3f -> %+.3f ppm "
          "(emulated)" % (st["sync"]["offset"], st["sync"]["frequency_ppm"],
                          st["sync"]["steps"], off0, off1, f0, kernel_freq_ppm()), flush=True)
    check(kernel_freq_ppm() == f0, "kernel frequency changed under -x")
    check(abs(off1 - off0) < 0.005, "guest clock moved under -x: %f -> %f" % (off0, off1))
    check(off1 > 0.04, "the guest clock was not stepped: %f" % off1)


def test_ntp_real(wd, srv):
    """90 s at a 1 s poll. The kernel frequency carries the slew of the
    remaining offset on top of the drift estimate, and under TCG one late
    sample can start a short strong slew; so it is judged by its median over
    the last 40 s, sampled every 2 s."""
    f0 = kernel_freq_ppm()
    d = Daemon(wd, "ntp", ntp_config(), args=())
    freqs = []
    try:
        t0 = time.monotonic()
        d.wait_for(lambda s: s["sync"]["synced"], "sync", timeout=40)
        # Steering the clock as the xnts user: CAP_SYS_TIME and nothing else.
        check_confined(d, [CAP_SYS_TIME], threads=False)
        while time.monotonic() - t0 < 90:
            time.sleep(2)
            t = time.monotonic() - t0
            if t >= 50:
                freqs.append(kernel_freq_ppm())
            if int(t) % 10 < 2:
                print("# t=%5.1f s: true offset %+.6f s, kernel frequency %+.3f ppm "
                      "(emulated)" % (t, srv.true_offset(), kernel_freq_ppm()), flush=True)
        st = d.status()
        off = srv.true_offset()
    finally:
        d.stop()
        set_kernel_freq_ppm(f0)
    mean = sorted(freqs)[len(freqs) // 2]
    print("# after 90 s: true offset %+.6f s, daemon offset %+.6f s, kernel frequency "
          "median of the last 40 s %+.3f ppm (min %+.3f, max %+.3f), drift %+.1f ppm, "
          "steps %d (emulated)" % (off, st["sync"]["offset"], mean, min(freqs), max(freqs),
                                   DRIFT * 1e6, st["sync"]["steps"]), flush=True)
    check(st["sync"]["steps"] >= 1, "a 50 ms offset is stepped")
    check(st["sync"]["steering"] == "adjtimex", "steering %s" % st["sync"]["steering"])
    check(abs(off) < 0.002, "final offset %f" % off)
    check(abs(mean - DRIFT * 1e6) < 12, "kernel frequency %f, want about %f" % (
        mean, DRIFT * 1e6))


def main():
    k = Ktap(4)
    if not in_guest():
        for name in ("phc_source_virtual", "phc_by_interface", "ntp_virtual_leaves_clock",
                     "ntp_disciplines_clock"):
            k.case(name, check, False, "runs only in the VM (changes the clock)")
        k.finish()
    with Workdir() as wd:
        k.case("phc_source_virtual", test_phc_source_virtual, wd)
        k.case("phc_by_interface", test_phc_by_interface, wd)
        net = Net()
        try:
            srv = TestServer(net.ns)
            try:
                k.case("ntp_virtual_leaves_clock", test_ntp_virtual, wd, srv)
                k.case("ntp_disciplines_clock", test_ntp_real, wd, srv)
            finally:
                srv.close()
        finally:
            net.close()
    k.finish()


if __name__ == "__main__":
    main()
