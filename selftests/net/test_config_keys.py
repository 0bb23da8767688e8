#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Configuration keys that used to be parsed and then ignored, each driven
through xntsd or xntsctl (selftests/unit/test_config_schema.c names this file
as their evidence):
  - [observability] log-path (appended to, reopened on SIGHUP after a move,
    an unusable path refused at startup), ansi-colors, log-level,
    observation-permissions;
  - [[source]] ntp-version (4 and "auto" send NTPv4), enable-srv-resolution
    (false works, true is refused by name);
  - [synchronization] reference-id shorter than 4 characters, padded with
    spaces as ntpd-rs does;
  - [[nts-ke-server]] ntp-server as an IPv6 address (RFC 8915 4.1.7: sent
    canonical, without brackets, and followed by xntsd's client), with
    accept-ntp-versions = [4];
  - [[nts-ke-server]] workers and per-client-accept-burst;
  - ntpd-rs 1.9's own packaged configuration validates."""

import os
import signal
import socket
import subprocess
import time

from xnts import (PEERS, REC_SERVER, REC_PORT, XNTSCTL, Daemon, check, free_port,
                  ke_exchange, ntp_fields, ntp_query, ntp_request, request, run_with_pki)


def wait_file(path, text, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(path, "rb") as f:
                data = f.read()
            if text in data:
                return data
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("%s never got %r" % (path, text))


def validate(wd, name, text):
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([XNTSCTL, "-c", path, "validate"], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def t_log_path_and_reopen(wd, pki):
    log = os.path.join(wd, "x.log")
    d = Daemon(wd, "lp", "", level=None,
               observability='log-level = "info"\nlog-path = "%s"\n' % log)
    try:
        first = wait_file(log, b"starting")
        check(os.stat(log).st_mode & 0o777 == 0o640, "log file mode 0640")
        check(b"starting" not in open(d.log, "rb").read(),
              "the log went to log-path, not stderr")
        check(first.endswith(b"\n") and b"\x1b[" not in first,
              "whole lines, no colours in a file by default: %r" % first)
        # logrotate: move the file away, then SIGHUP
        os.rename(log, log + ".1")
        d.proc.send_signal(signal.SIGHUP)
        new = wait_file(log, b"reloading certificates")
        old = open(log + ".1", "rb").read()
        check(b"reloading certificates" not in old, "nothing more in the moved file")
        check(new.count(b"\n") >= 1, "new file: %r" % new)
        d.status()  # still serving
    finally:
        check(d.stop() == 0, "clean exit")
    check(b"xntsd stopped" in open(log, "rb").read(), "the last line in the new file")
    # a log file that cannot be opened stops the daemon, naming the key
    conf = os.path.join(wd, "bad.toml")
    with open(conf, "w") as f:
        f.write('[observability]\nlog-path = "%s/no/such/dir/x.log"\n' % wd)
    r = subprocess.run([os.path.join(os.path.dirname(XNTSCTL), "xntsd"), "-c", conf, "-x"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "log-path" in r.stderr and "No such file" in r.stderr,
          "unusable log-path: %d %r" % (r.returncode, r.stderr))


def t_ansi_colors(wd, pki):
    for colors, want in (("true", True), ("false", False)):
        log = os.path.join(wd, "c-%s.log" % colors)
        d = Daemon(wd, "c" + colors, "", level=None,
                   observability='log-path = "%s"\nansi-colors = %s\n' % (log, colors))
        try:
            data = wait_file(log, b"starting")
        finally:
            d.stop()
        check((b"\x1b[32minfo \x1b[0m" in data) == want,
              "ansi-colors = %s: %r" % (colors, data[:200]))


def t_log_level(wd, pki):
    for level, want in (("warn", False), ("debug", True)):
        log = os.path.join(wd, "l-%s.log" % level)
        d = Daemon(wd, "l" + level, "", level=None,
                   observability='log-path = "%s"\nlog-level = "%s"\n' % (log, level))
        try:
            d.status()
        finally:
            d.stop()
        data = open(log, "rb").read()
        check((b"starting" in data) == want, "log-level = %s: %r" % (level, data[:300]))


def t_observation_permissions(wd, pki):
    for perms, want in (("0o600", 0o600), ("0o660", 0o660)):
        d = Daemon(wd, "p%d" % want, "", observability="observation-permissions = %s\n" % perms)
        try:
            mode = os.stat(d.sock).st_mode & 0o777
        finally:
            d.stop()
        check(mode == want, "observation-permissions = %s: socket mode %o" % (perms, mode))


def t_ntp_version_and_srv(wd, pki):
    """A fake server records the requests of two sources, ntp-version 4 and
    "auto", enable-srv-resolution = false: all NTPv4."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    conf = ""
    for v in ("4", '"auto"'):
        conf += ('[[source]]\nmode = "server"\naddress = "127.0.0.1:%d"\nntp-version = %s\n'
                 'enable-srv-resolution = false\n'
                 'poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n\n'
                 % (port, v))
    d = Daemon(wd, "ver", conf)
    versions = []
    try:
        end = time.time() + 10
        while time.time() < end and len(versions) < 4:
            try:
                data, _ = srv.recvfrom(1024)
            except socket.timeout:
                continue
            versions.append(ntp_fields(data)["version"])
    finally:
        d.stop()
        srv.close()
    check(len(versions) >= 4 and set(versions) == {4}, "request versions: %r" % versions)
    rc, out = validate(wd, "srv.toml", '[[source]]\nmode = "server"\naddress = "a"\n'
                       'enable-srv-resolution = true\n')
    check(rc == 1 and "'enable-srv-resolution' in [[source]]: SRV resolution is not "
          "supported" in out, "srv true: %d %s" % (rc, out))
    rc, out = validate(wd, "v5.toml", '[[source]]\nmode = "server"\naddress = "a"\n'
                       'ntp-version = 5\n')
    check(rc == 1 and "not supported" in out, "ntp-version 5: %s" % out)


def t_reference_id_padded(wd, pki):
    for refid, want in (("GPS", b"GPS "), ("X", b"X   "), ("ABCD", b"ABCD")):
        port = free_port(socket.SOCK_DGRAM)
        d = Daemon(wd, "r" + refid, '[[server]]\nlisten = "127.0.0.1:%d"\n\n'
                   '[synchronization]\nlocal-stratum = 1\nreference-id = "%s"\n'
                   % (port, refid))
        try:
            r = None
            for _ in range(20):
                r = ntp_query(port, ntp_request())
                if r:
                    break
            check(r is not None, "no answer")
            f = ntp_fields(r)
            check(f["stratum"] == 1 and f["refid"] == want,
                  "reference-id = %r: %r" % (refid, f))
        finally:
            d.stop()


def t_ke_ntp_server_ipv6(wd, pki):
    ke_port, ntp_port = free_port(), free_port(socket.SOCK_DGRAM)
    srv = Daemon(wd, "srv6", '[[server]]\nlisten = "[::1]:%d"\n\n[[nts-ke-server]]\n'
                 'listen = "127.0.0.1:%d"\ncertificate-chain-path = "%s"\n'
                 'private-key-path = "%s"\nntp-port = %d\nntp-server = "0:0::0:1"\n'
                 'accept-ntp-versions = [4]\n\n[synchronization]\nlocal-stratum = 1\n'
                 % (ntp_port, ke_port, pki.cert, pki.key, ntp_port))
    try:
        recs, _ = ke_exchange(ke_port, request(), ca=pki.ca)
        server = [body for t, _, body in recs if t == REC_SERVER]
        port = [body for t, _, body in recs if t == REC_PORT]
        check(server == [b"::1"], "server record, canonical and bare: %r" % server)
        check(port == [ntp_port.to_bytes(2, "big")], "port record: %r" % port)
        cli = Daemon(wd, "cli6", '[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
                     'certificate-authority = "%s"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\n'
                     'initial-poll-interval = 0\n' % (ke_port, pki.ca))
        try:
            st = cli.wait_for(lambda s: s["sources"][0]["associations"] and
                              s["sources"][0]["associations"][0]["received"] >= 2,
                              "samples over IPv6", timeout=20)
            a = st["sources"][0]["associations"][0]
            check(a["address"] == "[::1]:%d" % ntp_port and a["invalid"] == 0,
                  "followed the IPv6 server record: %r" % a)
        finally:
            check(cli.stop() == 0, "clean exit")
    finally:
        srv.stop()
    rc, out = validate(wd, "v6b.toml", '[[nts-ke-server]]\nlisten = "[::]:4460"\n'
                       'certificate-chain-path = "c"\nprivate-key-path = "k"\n'
                       'ntp-server = "[::1]"\n')
    check(rc == 1 and "'ntp-server'" in out, "brackets refused: %s" % out)


def t_ke_workers_and_accept_burst(wd, pki):
    """[[nts-ke-server]] workers sets the handshake threads; with
    per-client-accept-rate = 1, per-client-accept-burst is how many
    connections in a row one address gets before the rate applies."""
    for burst, refused in ((2, True), (50, False)):
        port = free_port()
        d = Daemon(wd, "kb%d" % burst, '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
                   'certificate-chain-path = "%s"\nprivate-key-path = "%s"\n'
                   'workers = 3\nper-client-accept-rate = 1\n'
                   'per-client-accept-burst = %d\n' % (port, pki.cert, pki.key, burst))
        try:
            for _ in range(8):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            ke = d.wait_for(lambda s: s["nts_ke_servers"][0]["accepted"] >= 8,
                            "8 connections accepted")["nts_ke_servers"][0]
        finally:
            d.stop()
        check(ke["workers"] == 3, "workers = 3: %r" % ke)
        check((ke["refused_rate"] >= 5) == refused and (ke["refused_rate"] == 0) != refused,
              "per-client-accept-burst = %d: %r" % (burst, ke))


def t_ntpdrs_packaged_config_validates(wd, pki):
    path = os.path.join(PEERS, "unstable", "root", "etc", "ntpd-rs", "ntp.toml")
    r = subprocess.run([XNTSCTL, "-c", path, "validate"], capture_output=True, text=True)
    check(r.returncode == 0, "%s: %s" % (path, r.stdout + r.stderr))


def main():
    run_with_pki([t_log_path_and_reopen, t_ansi_colors, t_log_level,
                  t_observation_permissions, t_ntp_version_and_srv, t_reference_id_padded,
                  t_ke_ntp_server_ipv6, t_ke_workers_and_accept_burst,
                  t_ntpdrs_packaged_config_validates])


if __name__ == "__main__":
    main()
