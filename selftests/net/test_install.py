#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make install / make uninstall into a DESTDIR (issue 14 items 2 and 3):
the files land where PREFIX and sysconfdir say; `systemd-analyze verify` is
clean on the unit; the default configuration validates with the installed
xntsctl; sysusers.d and tmpfiles.d create the xnts user and its directories
in a scratch root; the man pages render without a groff warning and
ntp.toml(5) names every key the parser knows; the installed daemon runs
(with a test configuration), speaks the notification protocol on an
abstract and a path socket (READY with STATUS, WATCHDOG at the asked period,
STOPPING) and is queried by the installed xntsctl; uninstall leaves no file
behind."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from xnts import (BUILD, TOP, Ktap, Workdir, check, ensure_user, free_port, give,
                  ntp_query, ntp_request, run)

PREFIX = "/usr"
FILES = {
    "usr/sbin/xntsd": 0o755,
    "usr/bin/xntsctl": 0o755,
    "usr/share/man/man8/xntsd.8": 0o644,
    "usr/share/man/man8/xntsctl.8": 0o644,
    "usr/share/man/man5/ntp.toml.5": 0o644,
    "usr/lib/systemd/system/xntsd.service": 0o644,
    "usr/lib/sysusers.d/xnts.conf": 0o644,
    "usr/lib/tmpfiles.d/xnts.conf": 0o644,
    "usr/lib/modules-load.d/xnts.conf": 0o644,
    "etc/xnts/ntp.toml": 0o644,
}


def make(dest, *targets, **var):
    args = ["make", "-s", "-C", TOP, "BUILD=" + BUILD, "DESTDIR=" + dest,
            "PREFIX=" + PREFIX] + ["%s=%s" % kv for kv in var.items()] + list(targets)
    return run(*args)


def files_under(d):
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.relpath(os.path.join(root, f), d) for f in files]
    return sorted(out)


def config_keys():
    """Every key name in the parser's field tables (userspace/lib/config.c)."""
    with open(os.path.join(TOP, "userspace", "lib", "config.c")) as f:
        src = f.read()
    keys = set(re.findall(r'\b(?:F|FN|ALG)\("([a-z0-9-]+)"', src))
    keys |= set(re.findall(r'\{ "([a-z0-9-]+)", K_', src))
    return keys


def t_install_files(dest):
    make(dest, "install")
    check(files_under(dest) == sorted(FILES), "installed: %r" % files_under(dest))
    for f, mode in FILES.items():
        st = os.stat(os.path.join(dest, f))
        check(st.st_mode & 0o7777 == mode, "%s mode %o" % (f, st.st_mode & 0o7777))
    unit = open(os.path.join(dest, "usr/lib/systemd/system/xntsd.service")).read()
    check("ExecStart=/usr/sbin/xntsd -c /etc/xnts/ntp.toml" in unit, "paths filled in")
    for d in ("Type=notify", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict",
              "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=",
              "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_XDP"):
        check(d in unit, "unit has %s" % d)
    # A second install keeps an operator's configuration.
    conf = os.path.join(dest, "etc/xnts/ntp.toml")
    with open(conf, "a") as f:
        f.write("# changed by the operator\n")
    make(dest, "install")
    check(open(conf).read().endswith("# changed by the operator\n"), "config kept")


def t_unit_verifies(dest):
    # verify wants ExecStart's binary at its final path: show it the
    # DESTDIR's, in a mount namespace of this command only.
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount --bind %s/usr/sbin /usr/sbin && systemd-analyze verify "
                        "%s/usr/lib/systemd/system/xntsd.service"
                        % (dest, dest)], capture_output=True, text=True,
                       env=dict(os.environ, MANPATH=dest + "/usr/share/man"))
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          "systemd-analyze verify: %d %r %r" % (p.returncode, p.stdout, p.stderr))


def t_default_config_validates(dest):
    out = run(dest + "/usr/bin/xntsctl", "-c", dest + "/etc/xnts/ntp.toml",
              "validate").stdout
    check("valid" in out, out)


def t_sysusers_tmpfiles(dest):
    root = tempfile.mkdtemp(prefix="xnts-root-")
    try:
        os.mkdir(os.path.join(root, "etc"))
        run("systemd-sysusers", "--root=" + root, dest + "/usr/lib/sysusers.d/xnts.conf")
        pw = [line.split(":") for line in open(os.path.join(root, "etc/passwd"))]
        xnts = [e for e in pw if e[0] == "xnts"]
        check(xnts and int(xnts[0][2]) < 1000 and xnts[0][6].strip().endswith("nologin"),
              "system user xnts: %r" % xnts)
        run("systemd-tmpfiles", "--root=" + root, "--create",
            dest + "/usr/lib/tmpfiles.d/xnts.conf")
        for d, mode in (("run/xnts", 0o755), ("var/lib/xnts", 0o700)):
            st = os.stat(os.path.join(root, d))
            check(st.st_uid == int(xnts[0][2]) and st.st_mode & 0o777 == mode,
                  "%s owner %d mode %o" % (d, st.st_uid, st.st_mode & 0o777))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def t_man_pages(dest):
    for page in ("man8/xntsd.8", "man8/xntsctl.8", "man5/ntp.toml.5"):
        p = subprocess.run(["man", "--warnings", "-l", dest + "/usr/share/man/" + page],
                           capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="100", MAN_KEEP_STDERR="1"))
        check(p.returncode == 0 and not p.stderr.strip() and "NAME" in p.stdout,
              "%s: %r" % (page, p.stderr))
        if page.endswith("ntp.toml.5"):
            text = p.stdout
    missing = sorted(k for k in config_keys()
                     if not re.search(r"(?<![a-z0-9-])%s(?![a-z0-9-])" % re.escape(k), text))
    check(len(config_keys()) > 50 and not missing,
          "keys missing from ntp.toml(5): %r" % missing)
    for sect in ("[[source]]", "[[server]]", "[observability]", "[keyset]",
                 "[[nts-ke-server]]", "[synchronization]", "[xdp]", "[daemon]"):
        check(sect in text, "section %s" % sect)


class Notify:
    """A datagram socket standing in for the service manager."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind("\0" + path[1:] if path.startswith("@") else path)
        self.s.settimeout(0.2)
        self.msgs = []

    def collect(self, until, pred):
        while time.time() < until and not pred(self.msgs):
            try:
                self.msgs.append(self.s.recv(4096).decode())
            except socket.timeout:
                pass
        return self.msgs


def run_installed(dest, wd, notify):
    port = free_port(socket.SOCK_DGRAM)
    sock = os.path.join(wd, "ctl.sock")
    conf = os.path.join(wd, "test.toml")
    with open(conf, "w") as f:
        f.write('[[server]]\nlisten = "127.0.0.1:%d"\n[synchronization]\n'
                'local-stratum = 1\n[observability]\nobservation-path = "%s"\n'
                % (port, sock))
    give(wd, recursive=True)
    n = Notify(notify)
    log = open(os.path.join(wd, "d.log"), "w")
    env = dict(os.environ, NOTIFY_SOCKET=notify, WATCHDOG_USEC="200000")
    p = subprocess.Popen([dest + "/usr/sbin/xntsd", "-x", "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT, env=env)
    try:
        msgs = n.collect(time.time() + 10, lambda m: any("READY=1" in x for x in m))
        ready = [x for x in msgs if "READY=1" in x]
        check(ready and "STATUS=serving" in ready[0], "READY with STATUS: %r" % msgs)
        t0 = time.time()
        msgs = n.collect(t0 + 3, lambda m: sum(x == "WATCHDOG=1" for x in m) >= 6)
        check(sum(x == "WATCHDOG=1" for x in msgs) >= 6 and time.time() - t0 < 2.5,
              "WATCHDOG=1 about every 100 ms: %r" % msgs)
        out = run(dest + "/usr/bin/xntsctl", "-c", conf, "status").stdout
        check("xntsd" in out and "ntp servers: 1" in out, out)
        r = ntp_query(port, ntp_request())
        check(r is not None and len(r) == 48, "the installed daemon answers NTP")
        p.send_signal(signal.SIGTERM)
        check(p.wait(10) == 0, "clean exit")
        msgs = n.collect(time.time() + 2, lambda m: any("STOPPING=1" in x for x in m))
        check(any("STOPPING=1" in x for x in msgs), "STOPPING: %r" % msgs)
        with open(os.path.join(wd, "d.log")) as f:
            text = f.read()
        check("seccomp: blocked" not in text and "privileges: running as xnts" in text,
              text)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
        n.s.close()


def t_run_installed(dest):
    ensure_user()
    with Workdir() as wd:
        run_installed(dest, wd, "@xnts-test-notify-%d" % os.getpid())
    with Workdir() as wd:
        run_installed(dest, wd, os.path.join(wd, "notify.sock"))


def t_uninstall(dest):
    # The changed configuration stays; the shipped one goes.
    make(dest, "uninstall")
    check(files_under(dest) == ["etc/xnts/ntp.toml"], "left: %r" % files_under(dest))
    os.unlink(os.path.join(dest, "etc/xnts/ntp.toml"))
    make(dest, "install")
    make(dest, "uninstall")
    check(files_under(dest) == [], "left behind: %r" % files_under(dest))
    check(not os.path.exists(os.path.join(dest, "etc/xnts")), "etc/xnts removed")


def main():
    tests = [t_install_files, t_unit_verifies, t_default_config_validates,
             t_sysusers_tmpfiles, t_man_pages, t_run_installed, t_uninstall]
    k = Ktap(len(tests))
    dest = tempfile.mkdtemp(prefix="xnts-destdir-")
    try:
        for t in tests:
            k.case(t.__name__[2:], t, dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    k.finish()


if __name__ == "__main__":
    main()
