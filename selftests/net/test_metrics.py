#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Status as the daemon reports it: `xntsctl status -f prometheus` and the
metrics-exporter-listen HTTP endpoint, checked by Debian's promtool and
scraped by a real Prometheus (on loopback, throwaway config and storage)
whose HTTP API must return the series; the exporter's bounds (bad requests,
connection count, idle time); and a source-less local-stratum server that
says it is a local reference and sends the current time as its reference
timestamp."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from xnts import (run_with_pki, Daemon, check, free_port, ntp_fields, ntp_query,
                  ntp_request, run, XNTSCTL)

NTP_UNIX_OFFSET = 2208988800


def server_conf(pki, ntp, ke, metrics, extra=""):
    return ('[[server]]\nlisten = "127.0.0.1:%d"\n'
            '[[nts-ke-server]]\nlisten = "127.0.0.1:%d"\n'
            'certificate-chain-path = "%s"\nprivate-key-path = "%s"\nntp-port = %d\n'
            '[synchronization]\nlocal-stratum = 1\n%s'
            '[observability]\nmetrics-exporter-listen = "127.0.0.1:%d"\n'
            % (ntp, ke, pki.cert, pki.key, ntp, extra, metrics))


def client_conf(pki, ke, metrics):
    return ('[[source]]\nmode = "nts"\naddress = "localhost:%d"\n'
            'certificate-authority = "%s"\n'
            'poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n'
            '[synchronization]\nminimum-agreeing-sources = 1\n'
            '[observability]\nmetrics-exporter-listen = "127.0.0.1:%d"\n'
            % (ke, pki.ca, metrics))


def daemon(wd, name, conf):
    head, _, obs = conf.partition("[observability]\n")
    return Daemon(wd, name, head, observability=obs)


def http_get(port, path="/metrics", method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def series(text):
    """{name{labels}: value} of a Prometheus text body."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def promtool_ok(text, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True)
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          "promtool on %s: rc %d\n%s%s" % (what, p.returncode, p.stdout, p.stderr))


def t_prometheus_text(wd, pki):
    ntp, ke, m1, m2 = free_port(), free_port(), free_port(), free_port()
    srv = daemon(wd, "srv", server_conf(pki, ntp, ke, m1))
    cli = daemon(wd, "cli", client_conf(pki, ke, m2))
    try:
        cli.wait_for(lambda s: s["sources"][0]["associations"] and
                     s["sources"][0]["associations"][0].get("received", 0) >= 3,
                     "samples", timeout=30)
        for d, port in ((srv, m1), (cli, m2)):
            text = d.ctl("status", "-f", "prometheus")
            promtool_ok(text, d.name + " xntsctl")
            code, hdr, body = http_get(port)
            check(code == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4"),
                  "%s: %d %r" % (d.name, code, hdr))
            promtool_ok(body, d.name + " HTTP")
            # One renderer: the same series both ways (values move on).
            check(set(series(text)) == set(series(body)),
                  "xntsctl and HTTP differ: %r" % (set(series(text)) ^ set(series(body))))
        s = series(srv.ctl("status", "-f", "prometheus"))
        st = srv.status()
        lbl = '{listen_address="127.0.0.1:%d"}' % ntp
        check(s["ntp_server_received_packets_total" + lbl] ==
              st["ntp_servers"][0]["received"] and s["ntp_server_received_packets_total" + lbl] >= 3,
              "received: %r" % s)
        check(s['xnts_server_responses_total{listen_address="127.0.0.1:%d",kind="nts"}' % ntp]
              >= 3, "NTS answers")
        check(s['xnts_nts_ke_exchanges_total{listen_address="127.0.0.1:%d",result="ok"}' % ke]
              == 1, "NTS-KE exchanges")
        check(s['xnts_nts_ke_failures_total{listen_address="127.0.0.1:%d",reason="tls"}' % ke]
              == 0, "NTS-KE failure reasons")
        check(s["xnts_keyset_keys"] == 1 and s["ntp_system_stratum"] == 1 and
              s["xnts_system_local_reference"] == 1, "keyset and clock")
        c = series(cli.ctl("status", "-f", "prometheus"))
        a = '{name="localhost:%d",address="127.0.0.1:%d"}' % (ke, ntp)
        check(abs(c["ntp_source_offset_seconds" + a]) < 0.05 and
              0 <= c["ntp_source_delay_seconds" + a] < 0.05 and
              c["xnts_source_reach" + a] >= 7, "source: %r" % c)
        check(c['ntp_source_nts_cookies_available{name="localhost:%d"}' % ke] >= 1, "cookies")
        check(not any(k.startswith("xnts_keyset") for k in c), "a client has no keyset")
    finally:
        cli.stop()
        srv.stop()


def t_prometheus_scrapes(wd, pki):
    ntp, ke, m1, m2, web = free_port(), free_port(), free_port(), free_port(), free_port()
    srv = daemon(wd, "srv", server_conf(pki, ntp, ke, m1))
    cli = daemon(wd, "cli", client_conf(pki, ke, m2))
    conf = os.path.join(wd, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: xntsd\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d', '127.0.0.1:%d']\n" % (m1, m2))
    log = open(os.path.join(wd, "prometheus.log"), "w")
    prom = subprocess.Popen(["prometheus", "--config.file=" + conf,
                             "--storage.tsdb.path=" + os.path.join(wd, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % web],
                            stdout=log, stderr=subprocess.STDOUT)

    def query(q):
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (web, urllib.parse.quote(q))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())["data"]["result"]
        except (OSError, ValueError, KeyError):
            return []

    def wait(q, pred, what):
        end = time.time() + 60
        while time.time() < end:
            r = query(q)
            if r and pred(r):
                return r
            time.sleep(0.5)
        log.flush()
        raise AssertionError("prometheus: %s: %s -> %r\n%s" % (
            what, q, query(q), open(os.path.join(wd, "prometheus.log")).read()[-2000:]))

    try:
        r = wait('up{job="xntsd"}', lambda r: len(r) == 2 and
                 all(x["value"][1] == "1" for x in r), "both targets up")
        r = wait("ntp_server_received_packets_total",
                 lambda r: float(r[0]["value"][1]) >= 3, "server requests")
        check(r[0]["metric"]["listen_address"] == "127.0.0.1:%d" % ntp, "labels %r" % r)
        r = wait("ntp_source_offset_seconds", lambda r: len(r) == 1, "source offset")
        check(r[0]["metric"]["address"] == "127.0.0.1:%d" % ntp and
              abs(float(r[0]["value"][1])) < 0.05, "offset %r" % r)
        wait("xnts_source_reach", lambda r: float(r[0]["value"][1]) > 0, "reach")
        wait('xnts_server_responses_total{kind="nts"}',
             lambda r: float(r[0]["value"][1]) >= 3, "NTS answers by kind")
        wait("xnts_system_local_reference == 1", lambda r: len(r) == 1,
             "the server is a local reference")
        wait("xnts_system_synchronized == 1", lambda r: len(r) == 1, "the client synchronised")
        wait("xnts_keyset_keys", lambda r: float(r[0]["value"][1]) == 1, "keyset")
        # A rate over scraped samples: Prometheus saw the counter move.
        wait("rate(ntp_server_received_packets_total[10s])",
             lambda r: float(r[0]["value"][1]) > 0, "counter rate")
    finally:
        prom.terminate()
        try:
            prom.wait(10)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()
        cli.stop()
        srv.stop()


def raw(port, data, timeout=3):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def t_exporter_bounds(wd, pki):
    ntp, ke, m = free_port(), free_port(), free_port()
    mlog = os.path.join(wd, "metrics.log")
    srv = daemon(wd, "srv", server_conf(pki, ntp, ke, m) +
                 'log-path-metrics-exporter = "%s"\n' % mlog)
    try:
        check(http_get(m, "/")[0] == 404, "404 for /")
        check(http_get(m, "/metrics?x=1")[0] == 200, "a query string is ignored")
        code, hdr, body = http_get(m, method="POST")
        check(code == 405 and "GET" in hdr.get("Allow", ""), "405 %r" % hdr)
        code, hdr, body = http_get(m, method="HEAD")
        check(code == 200 and body == "" and int(hdr["Content-Length"]) > 1000,
              "HEAD: %d %r" % (code, hdr))
        check(raw(m, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 "), "400")
        check(raw(m, b"GET /metrics SPDY/3\r\n\r\n").startswith(b"HTTP/1.1 400 "), "not HTTP/1")
        # Beyond 8 KiB the head is not read on: 431, or a reset when the
        # close finds the rest unread; either way the daemon carries on.
        big = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"
        try:
            got = raw(m, big)
            check(got.startswith(b"HTTP/1.1 431 "), "431: %r" % got[:40])
        except ConnectionResetError:
            pass
        check(http_get(m)[0] == 200, "serving after an oversized head")
        # A head split over several segments is read to its end.
        s = socket.create_connection(("127.0.0.1", m), timeout=5)
        s.sendall(b"GET /metr")
        time.sleep(0.2)
        s.sendall(b"ics HTTP/1.0\r\nHost: x\r\n")
        time.sleep(0.2)
        s.sendall(b"\r\n")
        got = b""
        while True:	# to the daemon's close: no connection of ours is left open
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        check(got.startswith(b"HTTP/1.1 200 "), "split request")
        s.close()
        # Connections beyond the limit are closed at once; idle ones time out.
        idle = [socket.create_connection(("127.0.0.1", m), timeout=10) for _ in range(16)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", m), timeout=3)
        try:
            got = extra.recv(100)
        except ConnectionResetError:
            got = b""
        check(got == b"", "17th connection answered: %r" % got)
        extra.close()
        t0 = time.time()
        check(idle[0].recv(100) == b"", "an idle connection is closed")
        check(time.time() - t0 < 8, "closed after the timeout")
        for s in idle:
            s.close()
        time.sleep(0.3)
        check(http_get(m)[0] == 200, "serving again")
        check(srv.alive(), "daemon alive")
        log = open(mlog).read()
        check("serving Prometheus metrics on http://127.0.0.1:%d/metrics" % m in log and
              "connections refused" in log, "exporter log:\n" + log)
        check("metrics:" not in srv.logtext(), "exporter lines went to their own file")
    finally:
        srv.stop()
    # An unusable log file or address is an error that names the key.
    bad = os.path.join(wd, "bad.toml")
    with open(bad, "w") as f:
        f.write(server_conf(pki, free_port(), free_port(), free_port()) +
                'log-path-metrics-exporter = "%s/no/such/dir/m.log"\n' % wd)
    p = subprocess.run([os.path.join(os.path.dirname(XNTSCTL), "xntsd"), "-x", "-c", bad],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode != 0 and "log-path-metrics-exporter" in p.stdout + p.stderr,
          "bad log path: %d %s%s" % (p.returncode, p.stdout, p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    with open(bad, "w") as f:
        f.write(server_conf(pki, free_port(), free_port(), busy.getsockname()[1]))
    p = subprocess.run([os.path.join(os.path.dirname(XNTSCTL), "xntsd"), "-x", "-c", bad],
                       capture_output=True, text=True, timeout=20)
    busy.close()
    check(p.returncode != 0 and "metrics-exporter-listen" in p.stdout + p.stderr,
          "busy port: %d %s%s" % (p.returncode, p.stdout, p.stderr))


def t_local_reference(wd, pki):
    ntp, ke, m = free_port(), free_port(), free_port()
    srv = daemon(wd, "srv", server_conf(pki, ntp, ke, m, extra='reference-id = "LOCL"\n'))
    try:
        sy = srv.status()["sync"]
        check(sy["local_reference"] and not sy["synced"], "sync %r" % sy)
        check(sy["serving"]["stratum"] == 1 and sy["serving"]["leap"] == 0 and
              sy["serving"]["refid"] == "LOCL", "serving %r" % sy["serving"])
        plain = srv.ctl("status")
        check("serving as a local reference" in plain and
              "serving stratum 1, leap none, refid LOCL" in plain, "plain status:\n" + plain)
        for _ in range(3):	# across a refresh of the reference timestamp
            d = ntp_query(ntp, ntp_request())
            check(d is not None, "no answer")
            f = ntp_fields(d)
            now = time.time() + NTP_UNIX_OFFSET
            ref = f["reference"] / 2**32
            check(f["stratum"] == 1 and f["leap"] == 0 and f["refid"] == b"LOCL",
                  "header %r" % f)
            check(now - 3 < ref <= f["tx"] / 2**32 + 0.001,
                  "reference %.3f, now %.3f" % (ref, now))
            check(abs(sy["serving"]["reference_time"] + NTP_UNIX_OFFSET - now) < 5,
                  "status reference time")
            time.sleep(1.2)
    finally:
        srv.stop()


if __name__ == "__main__":
    if not shutil.which("promtool") or not shutil.which("prometheus"):
        raise SystemExit("prometheus and promtool are needed: run tools/install-deps")
    run_with_pki([t_prometheus_text, t_prometheus_scrapes, t_exporter_bounds,
                  t_local_reference])
