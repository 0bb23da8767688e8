#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Bytes a server chose never reach status output raw: a kiss-o'-death whose
code holds an escape sequence, a newline and a non-ASCII byte shows in the
source's error escaped (\\xNN), in the JSON status and in xntsctl's text;
so does the refid the server announces (sync.serving.refid)."""

import socket
import struct
import threading

from xnts import Daemon, Ktap, Workdir, check, free_port, ntp_fields, ntp_query, ntp_request


def kiss_server(sock, code, stop):
    while not stop.is_set():
        try:
            req, peer = sock.recvfrom(1024)
        except socket.timeout:
            continue
        resp = bytearray(48)
        resp[0] = (3 << 6) | (4 << 3) | 4	# leap unsync, v4, server
        resp[1] = 0				# stratum 0: kiss-o'-death
        resp[12:16] = code
        resp[24:32] = req[40:48]
        sock.sendto(bytes(resp), peer)


def t_kiss_code_escaped(wd):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()
    th = threading.Thread(target=kiss_server, args=(sock, b"\x1b[\n\xff", stop), daemon=True)
    th.start()
    d = Daemon(wd, "kiss", '[[source]]\nmode = "server"\naddress = "127.0.0.1:%d"\n'
               'poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n'
               % sock.getsockname()[1])
    try:
        st = d.wait_for(lambda s: s["sources"][0]["associations"] and
                        s["sources"][0]["associations"][0]["kisses"] >= 1, "a kiss")
        err = st["sources"][0]["associations"][0]["error"]
        check(err == "kiss-o'-death \\x1b[\\x0a\\xff", "escaped in JSON: %r" % err)
        text = d.ctl("status")
        check("kiss-o'-death \\x1b[\\x0a\\xff" in text and "\x1b" not in text,
              "escaped in xntsctl's text: %r" % text)
    finally:
        d.stop()
        stop.set()
        th.join()
        sock.close()


def t_serving_refid_escaped(wd):
    """A server synchronised to 127.0.0.1 announces that address as its
    refid: the status shows it as an address (stratum 2 and up, as chronyc
    and ntpq do), and the configured ASCII refid of a local reference as
    text."""
    up_port, port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    up = Daemon(wd, "up", '[[server]]\nlisten = "127.0.0.1:%d"\n\n[synchronization]\n'
                'local-stratum = 1\nreference-id = "GPS"\n' % up_port)
    cli = None
    try:
        st = up.wait_for(lambda s: s["sync"]["serving"]["stratum"] == 1, "local reference")
        check(st["sync"]["serving"]["refid"] == "GPS ", "local refid: %r" % st["sync"])
        cli = Daemon(wd, "down", '[[source]]\nmode = "server"\naddress = "127.0.0.1:%d"\n'
                     'poll-interval-limits = { min = 0, max = 0 }\ninitial-poll-interval = 0\n'
                     '\n[[server]]\nlisten = "127.0.0.1:%d"\n\n[synchronization]\n'
                     'minimum-agreeing-sources = 1\n' % (up_port, port))
        st = cli.wait_for(lambda s: s["sync"]["serving"]["stratum"] == 2,
                          "synchronised to the local reference", timeout=30)
        check(st["sync"]["serving"]["refid"] == "127.0.0.1",
              "upstream refid: %r" % st["sync"]["serving"])
        r = ntp_query(port, ntp_request())
        check(r is not None and ntp_fields(r)["refid"] == b"\x7f\x00\x00\x01",
              "the refid on the wire: %r" % (r and ntp_fields(r)))
    finally:
        if cli:
            cli.stop()
        up.stop()


def main():
    tests = [t_kiss_code_escaped, t_serving_refid_escaped]
    k = Ktap(len(tests))
    for t in tests:
        with Workdir() as wd:
            k.case(t.__name__[2:], t, wd)
    k.finish()


if __name__ == "__main__":
    main()
