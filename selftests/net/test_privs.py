#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Least privilege (issue 13 item 2): xntsd, started as root, runs as the
xnts user with only the capabilities its configuration needs, NoNewPrivs and
a seccomp filter on every thread, read from /proc/PID/task/*/status of the
running daemon, while NTS-KE, NTS serving, certificate reload (file swap and
SIGHUP), key rotation with storage, and XDP re-attach after its interface
is deleted and re-created (veth in namespaces) all keep working. No call is
refused by the filter on the way (its SIGSYS handler would log it)."""

import os
import pwd
import time
import signal
import subprocess

from xnts import (Daemon, Pki, Ktap, Workdir, XNTSD, check, ensure_user, free_port,
                  give, ke_exchange, request, REC_COOKIE)
from test_xdp import (Net, SRV4, SRV_IF, check_answer, conf, pins_left, query,
                      socket_in)

CAP_BPF = 39
# Since Linux 6.5, bpf() checks privilege only when loading programs and
# creating maps: what xntsd does with XDP after start-up needs no capability.
CAP_NET_RAW = 13
SECCOMP = "2"	# filter mode (an ASan build's filter allows all: privs.c)
# The AF_XDP path (userspace-path "auto" on this kernel) binds sockets again
# after an interface comes back, which needs CAP_NET_RAW.
XDP_CAPS = [CAP_NET_RAW] + \
    ([] if tuple(map(int, os.uname().release.split(".")[:2])) >= (6, 5) else [CAP_BPF])


def task_status(pid):
    """{tid: {field: value}} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            out[int(tid)] = dict(line.rstrip("\n").split(":\t", 1) for line in f
                                 if ":\t" in line)
    return out


def check_confined(d, caps, threads=True):
    """Every thread: the xnts uid and gid (real, effective, saved, fs),
    NoNewPrivs, seccomp filtering; the main thread holds exactly caps in its
    effective, permitted and bounding sets, the others at most those."""
    uid, gid = ensure_user()
    want = sum(1 << c for c in caps)
    tasks = task_status(d.proc.pid)
    check(not threads or len(tasks) >= 2, "worker threads exist: %r" % sorted(tasks))
    for tid, st in tasks.items():
        check(st["Uid"].split() == [str(uid)] * 4, "thread %d uid %r" % (tid, st["Uid"]))
        check(st["Gid"].split() == [str(gid)] * 4, "thread %d gid %r" % (tid, st["Gid"]))
        check(st["NoNewPrivs"] == "1", "thread %d NoNewPrivs %r" % (tid, st["NoNewPrivs"]))
        check(st["Seccomp"] == SECCOMP, "thread %d Seccomp %r" % (tid, st["Seccomp"]))
        eff = int(st["CapEff"], 16)
        check(eff & ~want == 0, "thread %d CapEff %s beyond %x" % (tid, st["CapEff"], want))
        check(int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0,
              "thread %d inheritable/ambient %r %r" % (tid, st["CapInh"], st["CapAmb"]))
    main = tasks[d.proc.pid]
    for k in ("CapEff", "CapPrm", "CapBnd"):
        check(int(main[k], 16) == want, "main thread %s %s, want %x" % (k, main[k], want))


def check_no_blocked_calls(d):
    check("seccomp: blocked" not in d.logtext(), "a call was refused:\n" + d.logtext())


def t_nts_server(wd, pki):
    ke_port, ntp_port = free_port(), free_port()
    live = os.path.join(wd, "live")
    os.mkdir(live)
    give(live)
    k2, c2 = pki.issue("second")
    os.symlink(pki.cert, os.path.join(live, "fullchain.pem"))
    os.symlink(pki.key, os.path.join(live, "privkey.pem"))
    keys = os.path.join(wd, "keys")
    srv = Daemon(wd, "srv", '[[server]]\nlisten = "127.0.0.1:%d"\n\n'
                 '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
                 'certificate-chain-path = "%s/fullchain.pem"\n'
                 'private-key-path = "%s/privkey.pem"\nntp-port = %d\n\n'
                 '[keyset]\nkey-storage-path = "%s"\nkey-rotation-interval = 2\n\n'
                 '[synchronization]\nlocal-stratum = 1\n'
                 % (ntp_port, ke_port, live, live, ntp_port, keys))
    cli = None
    try:
        check_confined(srv, [])
        # NTS-KE against an independent probe.
        recs, der = ke_exchange(ke_port, request(), ca=pki.ca)
        check(len([r for r in recs if r[0] == REC_COOKIE]) == 8, "8 cookies")
        # NTS serving, to xntsd's own client (itself confined, no capability).
        cli = Daemon(wd, "cli", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\n'
                     'initial-poll-interval = 0\n' % (ke_port, pki.ca))
        check_confined(cli, [], threads=False)
        srv.wait_for(lambda s: s["ntp_servers"][0]["nts"] >= 3, "NTS requests answered")
        # Key rotation writes the storage file as xnts, 0600.
        first = srv.status()["keyset"]["keys"][0]["id"]
        srv.wait_for(lambda s: s["keyset"]["keys"][0]["id"] != first, "a rotation",
                     timeout=15)
        st = os.stat(keys)
        check(st.st_uid == ensure_user()[0] and st.st_mode & 0o777 == 0o600,
              "key storage file owner %d mode %o" % (st.st_uid, st.st_mode))
        cli.wait_for(lambda s: s["sources"][0]["associations"] and
                     s["sources"][0]["associations"][0]["received"] >= 3,
                     "NTS responses across rotations")
        # Certificate reload: a certbot-style swap of live/ symlinks, then SIGHUP.
        ok = srv.status()["nts_ke_servers"][0]["reloads_ok"]
        for name, target in (("privkey.pem", k2), ("fullchain.pem", c2)):
            tmp = os.path.join(live, name + ".new")
            os.symlink(target, tmp)
            os.rename(tmp, os.path.join(live, name))
        srv.wait_for(lambda s: s["nts_ke_servers"][0]["reloads_ok"] > ok, "swap reload")
        check(ke_exchange(ke_port, request(), ca=pki.ca)[1] != der, "new certificate")
        ok = srv.status()["nts_ke_servers"][0]["reloads_ok"]
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_for(lambda s: s["nts_ke_servers"][0]["reloads_ok"] > ok, "SIGHUP reload")
        check(srv.status()["nts_ke_servers"][0]["reloads_failed"] == 0, "no failed reload")
        check_confined(srv, [])
        check_no_blocked_calls(srv)
        check_no_blocked_calls(cli)
    finally:
        if cli:
            check(cli.stop() == 0, "client clean exit")
        check(srv.stop() == 0, "server clean exit")


def t_xdp_reattach(wd, pki):
    net = Net("privs")
    d = None
    try:
        d = Daemon(wd, "xdp", conf(net), prefix=net.prefix())
        check_confined(d, XDP_CAPS)
        s = socket_in(net.cli)
        check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
        i1 = d.status()["xdp"]["interfaces"][0]
        # The link flap: the interface goes away and comes back.
        subprocess.run(["ip", "-n", net.srv, "link", "del", SRV_IF], check=True)
        d.wait_for(lambda st: st["xdp"]["interfaces"][0]["mode"] == "failed", "gone")
        net.make_veth()
        st = d.wait_for(lambda st: st["xdp"]["interfaces"][0]["mode"] == "native",
                        "re-attached")
        i2 = st["xdp"]["interfaces"][0]
        check(i2["link_id"] != i1["link_id"] and st["xdp"]["reattaches"] == 1,
              "a new link: %r -> %r" % (i1, i2))
        check(os.path.exists(os.path.join(net.pin, "links", SRV_IF)),
              "the new link is pinned")
        s = socket_in(net.cli)
        for _ in range(5):
            check_answer(query(s, SRV4), 0, 2, b"XTST")
        s.close()
        check(st["xdp"]["counters"]["answered"] >= 1, "XDP answered")
        # The AF_XDP sockets follow the new interface, after the drop too.
        st = d.wait_for(lambda st: st["af_xdp"]["active"] and st["af_xdp"]["rebuilds"] >= 1,
                        "AF_XDP sockets on the new interface")
        check_confined(d, XDP_CAPS)
        check_no_blocked_calls(d)
        check(d.stop() == 0, "clean exit")
        check(net.xdp_on_server() is None, "detached on shutdown")
        check(pins_left(net) == [], "unpinned: %r" % pins_left(net))
        d = None
    finally:
        if d:
            d.stop()
        net.close()


def t_missing_user(wd, pki):
    path = os.path.join(wd, "nouser.toml")
    with open(path, "w") as f:
        f.write('[daemon]\nuser = "xnts-no-such-user"\n[[server]]\n'
                'listen = "127.0.0.1:%d"\n' % free_port(2))
    p = subprocess.run([XNTSD, "-x", "-c", path], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode != 0 and "'xnts-no-such-user' does not exist" in p.stderr,
          "refused, naming the user: %r" % p.stderr)


def t_unusable_files_named(wd, pki):
    """A private key only root can read would make every reload fail once
    the daemon runs as xnts: it refuses to start and names the file. So does
    a key storage directory xnts cannot write."""
    key = os.path.join(wd, "rootonly.key")
    with open(pki.key, "rb") as src, open(key, "wb") as dst:
        dst.write(src.read())
    os.chmod(key, 0o600)
    os.chown(key, 0, 0)
    path = os.path.join(wd, "files.toml")
    base = ('[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
            'private-key-path = "%s"\n')
    with open(path, "w") as f:
        f.write(base % (free_port(), pki.cert, key))
    p = subprocess.run([XNTSD, "-x", "-c", path], capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "private key %s is not readable by user xnts" % key
          in p.stderr, "refused, naming the key: %r" % p.stderr)
    keys = os.path.join(wd, "rootdir")
    os.mkdir(keys, 0o700)
    with open(path, "w") as f:
        f.write(base % (free_port(), pki.cert, pki.key) +
                '[keyset]\nkey-storage-path = "%s/keys"\n' % keys)
    p = subprocess.run([XNTSD, "-x", "-c", path], capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "key storage directory %s is not writable by user xnts"
          % keys in p.stderr, "refused, naming the directory: %r" % p.stderr)


def t_started_unprivileged(wd, pki):
    """Not root: no user switch, no error, still NoNewPrivs and seccomp."""
    path = os.path.join(wd, "unpriv.toml")
    sock = os.path.join(wd, "unpriv.sock")
    with open(path, "w") as f:
        f.write('[[server]]\nlisten = "127.0.0.1:%d"\n[observability]\n'
                'observation-path = "%s"\n' % (free_port(2), sock))
    give(path)
    nobody = pwd.getpwuid(ensure_user()[0])
    p = subprocess.Popen(["setpriv", "--reuid=%d" % nobody.pw_uid,
                          "--regid=%d" % nobody.pw_gid, "--clear-groups",
                          "--inh-caps=-all", XNTSD, "-x", "-c", path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = ""
        end = time.time() + 10
        while time.time() < end and "privileges:" not in out:
            line = p.stdout.readline()
            if not line:
                break
            out += line
        check("privileges: running as uid %d" % nobody.pw_uid in out, "log:\n" + out)
        st = task_status(p.pid)[p.pid]
        check(st["Uid"].split()[0] == str(nobody.pw_uid) and st["Seccomp"] == SECCOMP and
              st["NoNewPrivs"] == "1" and int(st["CapEff"], 16) == 0, "status %r" % st)
    finally:
        p.terminate()
        p.wait(10)


def main():
    tests = [t_nts_server, t_xdp_reattach, t_missing_user, t_unusable_files_named,
             t_started_unprivileged]
    k = Ktap(len(tests))
    ensure_user()
    with Workdir() as wd:
        pki = Pki(wd)
        for t in tests:
            with Workdir() as twd:
                k.case(t.__name__[2:], t, twd, pki)
    k.finish()


if __name__ == "__main__":
    main()
