#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""NTS-KE under attack. Three network namespaces that the test creates and
deletes: the server, a good client and an attacker, each on its own veth to
the server. While the attacker floods the KE port with TCP connections that
close at once, idle connections that never start TLS, and half-open
handshakes (a real ClientHello, then silence), the good client keeps
completing NTS-KE exchanges, the server's XDP program keeps answering NTP
with a live heartbeat (the main loop keeps beating; a stall shows as LI=3
stratum 16), and the status socket keeps answering. Then: accept errors
(EMFILE under a small descriptor limit the daemon may not raise) pause
accepts instead of spinning, and service resumes once descriptors free up.

Run as `test_ke_flood.py --flood ADDR PORT SECONDS` it is the attacker
itself, started inside the attacker's namespace."""

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

from xnts import (Daemon, REC_COOKIE, check, ke_exchange, request, run, run_with_pki,
                  tls_context)

KE_PORT = 4460
ATK_SRV4, ATK4 = "10.198.0.1", "10.198.0.2"
ATK_SRV_IF, ATK_IF = "xs1", "xa0"
PER_CLIENT = 8


# ---- the attacker (runs in its own namespace) ----

def client_hello():
    """The first flight of a real TLS 1.3 handshake, as bytes."""
    ctx = tls_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def flood(addr, port, secs):
    end = time.time() + secs
    hello = client_hello()
    counts = {"tcp": 0, "idle": 0, "hello": 0, "errors": 0}
    lock = threading.Lock()

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect((addr, port))
        return s

    def churn():
        # Connect and go: every one is an accept, admitted or refused. It
        # starts late, so that the holders meet the per-client cap before
        # the churn empties the client's token bucket.
        time.sleep(min(2, secs / 3))
        while time.time() < end:
            try:
                connect().close()
                kind = "tcp"
            except OSError:
                kind = "errors"
            with lock:
                counts[kind] += 1

    def holder(kind):
        # Keep up to 200 open for 3 s each: idle ones, or ones that sent a
        # ClientHello and will never answer the server's flight.
        held = []
        while time.time() < end:
            while held and (len(held) >= 200 or held[0][0] < time.time() - 3):
                held.pop(0)[1].close()
            try:
                s = connect()
                if kind == "hello":
                    s.sendall(hello)
                held.append((time.time(), s))
                with lock:
                    counts[kind] += 1
            except OSError:
                with lock:
                    counts["errors"] += 1
        for _, s in held:
            s.close()

    threads = [threading.Thread(target=churn) for _ in range(3)]
    threads += [threading.Thread(target=holder, args=(k,)) for k in ("idle", "hello", "hello")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(counts))


# ---- the test ----

def make_attacker(net):
    ns = net.tag + "-a"
    run("ip", "netns", "add", ns)
    run("ip", "-n", ns, "link", "set", "lo", "up")
    run("ip", "-n", net.srv, "link", "add", ATK_SRV_IF, "type", "veth", "peer", "name",
        ATK_IF, "netns", ns)
    run("ip", "-n", net.srv, "addr", "add", ATK_SRV4 + "/24", "dev", ATK_SRV_IF)
    run("ip", "-n", ns, "addr", "add", ATK4 + "/24", "dev", ATK_IF)
    run("ip", "-n", net.srv, "link", "set", ATK_SRV_IF, "up")
    run("ip", "-n", ns, "link", "set", ATK_IF, "up")
    return ns


def server_conf(net, pki, extra=""):
    return ('[[server]]\nlisten = "0.0.0.0:123"\n'
            '[[nts-ke-server]]\nlisten = "0.0.0.0:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
            'per-client-connections = %d\nper-client-accept-burst = 100\nworkers = 2\n%s'
            '[synchronization]\nlocal-stratum = 2\nreference-id = "XTST"\n'
            '[xdp]\ninterfaces = ["%s"]\nmode = "native"\npin-path = "%s"\n'
            'heartbeat-timeout-ms = 1000\nstale-action = "unsync"\n'
            % (KE_PORT, pki.cert, pki.key, PER_CLIENT, extra, SRV_IF, net.pin))


def good_exchange(net, pki):
    """One NTS-KE exchange from the good client's namespace."""
    with InNetns(net.cli):
        recs, _ = ke_exchange(KE_PORT, request(), ca=pki.ca, addr=SRV4, timeout=5)
    n = len([r for r in recs if r[0] == REC_COOKIE])
    check(n == 8, "8 cookies, got %d" % n)


def t_flood(wd, pki):
    net = Net("keflood")
    atk = None
    d = None
    try:
        atk = make_attacker(net)
        d = Daemon(wd, "kf", server_conf(net, pki), prefix=net.prefix())
        good_exchange(net, pki)
        ntp = socket_in(net.cli)
        check_answer(query(ntp, SRV4), 0, 2, b"XTST")
        hb0 = d.status()["xdp"]["heartbeats"]
        secs = 8
        fl = subprocess.Popen(["ip", "netns", "exec", atk, sys.executable,
                               os.path.abspath(__file__), "--flood", ATK_SRV4,
                               str(KE_PORT), str(secs)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Let the flood take hold before the good client starts.
        d.wait_for(lambda st: st["nts_ke_servers"][0]["refused_client"] > 0,
                   "the flood to hit the per-client cap")
        d.wait_for(lambda st: st["nts_ke_servers"][0]["active"] == PER_CLIENT,
                   "the attacker to hold its share")
        exchanges = answers = polls = 0
        worst_active = 0
        while fl.poll() is None:
            good_exchange(net, pki)
            exchanges += 1
            check_answer(query(ntp, SRV4, timeout=2), 0, 2, b"XTST")
            answers += 1
            st = d.status()
            polls += 1
            ke = st["nts_ke_servers"][0]
            worst_active = max(worst_active, ke["active"])
            check(ke["active"] <= PER_CLIENT + 1, "attacker holds more than its share: %r"
                  % ke)
            check(st["xdp"]["counters"]["stale_unsync"] == 0,
                  "heartbeat went stale: %r" % st["xdp"])
        out, err = fl.communicate()
        check(fl.returncode == 0, "flooder failed: %s" % err.decode()[-2000:])
        counts = json.loads(out)
        st = d.status()
        ke = st["nts_ke_servers"][0]
        print("# flood %r; good client: %d exchanges, %d NTP answers, %d status "
              "reads; server: %r" % (counts, exchanges, answers, polls,
                                     {k: ke[k] for k in ("accepted", "refused_client",
                                                         "refused_rate", "active",
                                                         "handshakes_ok", "workers")}))
        check("refused" in d.logtext() and "from %s" % ATK4 in d.logtext(),
              "refusals are logged")
        check(exchanges >= 3, "only %d good exchanges during the flood" % exchanges)
        check(counts["tcp"] + counts["idle"] + counts["hello"] > 10 * PER_CLIENT,
              "the flood was too weak to mean anything: %r" % counts)
        check(ke["refused_client"] > 0 and ke["refused_rate"] > 0,
              "both per-client limits were used: %r" % ke)
        check(ke["workers"] >= 1 and ke["handshakes_ok"] >= exchanges + 1, "status %r" % ke)
        check(st["xdp"]["heartbeats"] - hb0 >= secs * 2,
              "heartbeats %d -> %d in %d s" % (hb0, st["xdp"]["heartbeats"], secs))
        check(st["xdp"]["counters"]["stale_unsync"] == 0, "stale answers: %r" % st["xdp"])
        # The attacker's slots come back once its connections end.
        d.wait_for(lambda s: s["nts_ke_servers"][0]["active"] == 0 and
                   s["nts_ke_servers"][0]["clients"] == 0, "every slot released")
        good_exchange(net, pki)
        ntp.close()
        check(d.stop() == 0, "clean exit")
        d = None
    finally:
        if d:
            d.stop()
        if atk:
            subprocess.run(["ip", "netns", "del", atk], capture_output=True)
        net.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def t_emfile_backoff(wd, pki):
    net = Net("keemfile", veth=False)
    try:
        # A descriptor limit the daemon cannot raise (no CAP_SYS_RESOURCE).
        prefix = net.prefix() + ("capsh", "--drop=cap_sys_resource", "--", "-c",
                                 'ulimit -n 64 && exec "$0" "$@"')
        conf = ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
                'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                'per-client-connections = 0\nper-client-accept-rate = 0\n'
                'concurrent-connections = 200\nkey-exchange-timeout-ms = 4000\n'
                % (KE_PORT, pki.cert, pki.key))
        d = Daemon(wd, "em", conf, prefix=prefix)
        try:
            check("open file limit 64" in d.logtext(), "the low limit is reported")
            held = []
            with InNetns(net.srv):
                for _ in range(100):
                    held.append(socket.create_connection(("127.0.0.1", KE_PORT), timeout=2))
            st = d.wait_for(lambda s: s["nts_ke_servers"][0]["accept_backoffs"] > 0,
                            "accepts to pause on EMFILE")["nts_ke_servers"][0]
            check(st["active"] < 64, "active %d under a limit of 64" % st["active"])
            # Paused, not spinning: well under a core over two seconds.
            c0 = cpu_seconds(d.proc.pid)
            time.sleep(2)
            used = cpu_seconds(d.proc.pid) - c0
            check(used < 1.0, "daemon used %.2f s of CPU in 2 s while out of "
                  "descriptors" % used)
            check("pausing accepts" in d.logtext(), "the pause is logged")
            for s in held:
                s.close()
            d.wait_for(lambda s: s["nts_ke_servers"][0]["active"] == 0, "slots released",
                       timeout=15)
            with InNetns(net.srv):
                recs, _ = ke_exchange(KE_PORT, request(), ca=pki.ca)
            check(len([r for r in recs if r[0] == REC_COOKIE]) == 8,
                  "served again after the pause")
            check(d.stop() == 0, "clean exit")
        finally:
            d.stop()
    finally:
        net.close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--flood":
        flood(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        sys.exit(0)
    from test_xdp import (Net, SRV4, SRV_IF, check_answer, query,  # noqa: E402
                          socket_in)
    from test_xdp import _libc, CLONE_NEWNET  # noqa: E402

    class InNetns:
        """This thread in network namespace ns for the block."""

        def __init__(self, ns):
            self.ns = ns

        def __enter__(self):
            self.own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            tgt = os.open("/run/netns/" + self.ns, os.O_RDONLY)
            try:
                if _libc.setns(tgt, CLONE_NEWNET):
                    raise OSError("setns %s" % self.ns)
            finally:
                os.close(tgt)

        def __exit__(self, *exc):
            try:
                if _libc.setns(self.own, CLONE_NEWNET):
                    raise OSError("setns back")
            finally:
                os.close(self.own)

    run_with_pki([t_flood, t_emfile_backoff])
