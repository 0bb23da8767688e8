# SPDX-License-Identifier: GPL-2.0
"""Shared pieces of the xnts network selftests: KTAP output, a throwaway
PKI made with the openssl CLI, xntsd processes with their own configs and
control sockets, and an NTS-KE probe built on Python's ssl module (OpenSSL),
which shares no code with xnts."""

import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("XNTS_BUILD", os.path.join(TOP, "build"))
XNTSD = os.path.join(BUILD, "xntsd")
XNTSCTL = os.path.join(BUILD, "xntsctl")
# xntsd switches to this user after start-up ([daemon] user, the default).
USER = "xnts"


def ensure_user(name=USER):
    """The daemon's user, created as the install does (a system user with
    no home and no shell) if this machine lacks it. Returns (uid, gid)."""
    import pwd
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def give(path, recursive=False):
    """Hand path to the daemon's user, as an operator does for the files
    xntsd must still read or write after it drops root."""
    uid, gid = ensure_user()
    os.chown(path, uid, gid)
    if recursive:
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, gid)


class Ktap:
    """Prints KTAP; every test is a function run through case()."""

    def __init__(self, total):
        self.n = 0
        self.failed = 0
        print("TAP version 13")
        print("1..%d" % total, flush=True)

    def case(self, name, fn, *args):
        self.n += 1
        try:
            fn(*args)
        except Exception as e:  # a test failure, or a broken test: both fail
            self.failed += 1
            for line in traceback.format_exception(e):
                for sub in line.rstrip().splitlines():
                    print("# " + sub)
            print("not ok %d %s" % (self.n, name), flush=True)
            return False
        print("ok %d %s" % (self.n, name), flush=True)
        return True

    def finish(self):
        print("# Totals: pass:%d fail:%d" % (self.n - self.failed, self.failed))
        sys.exit(1 if self.failed else 0)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


class Pki:
    """A CA, a server certificate for localhost/127.0.0.1/::1 signed by it,
    and a self-signed certificate, all P-256."""

    def __init__(self, d):
        self.dir = d
        self.ca_key = os.path.join(d, "ca.key")
        self.ca = os.path.join(d, "ca.pem")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.ca_key,
            "-out", self.ca, "-days", "2", "-subj", "/CN=xnts test CA")
        self.key, self.cert = self.issue("server")
        self.ss_key = os.path.join(d, "selfsigned.key")
        self.ss_cert = os.path.join(d, "selfsigned.pem")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.ss_key,
            "-out", self.ss_cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        give(self.ss_key)

    def issue(self, name, san="DNS:localhost,IP:127.0.0.1,IP:::1"):
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
        run("openssl", "req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=localhost")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
            self.ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
            "-extfile", ext)
        os.chmod(key, 0o600)
        give(key)
        give(cert)
        return key, cert

    @staticmethod
    def spki_pin(cert):
        pub = run("openssl", "x509", "-in", cert, "-noout", "-pubkey").stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                             input=pub.encode(), capture_output=True,
                             check=True).stdout
        import hashlib
        return "sha256:" + hashlib.sha256(der).hexdigest()


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def terminate(proc):
    """SIGTERM, then SIGKILL after 10 s; False if it came to that."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


class Daemon:
    """An xntsd with its own config file and control socket in dir; prefix
    runs it through another command (e.g. nsenter into a network namespace).
    level=None leaves the log level to the config; observability holds more
    [observability] keys (the table that carries the control socket)."""

    def __init__(self, d, name, config, args=("-x",), level="debug", prefix=(),
                 observability=""):
        self.dir = d
        self.name = name
        self.sock = os.path.join(d, name + ".sock")
        self.conf = os.path.join(d, name + ".toml")
        self.log = os.path.join(d, name + ".log")
        with open(self.conf, "w") as f:
            f.write(config)
            f.write('\n[observability]\nobservation-path = "%s"\n%s' % (self.sock,
                                                                     observability))
        self.logf = open(self.log, "w")
        give(d, recursive=True)
        self.proc = subprocess.Popen(list(prefix) + [XNTSD, "-c", self.conf] +
                                     (["-l", level] if level else []) +
                                     list(args), stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited %d:\n%s" % (
                    self.name, self.proc.returncode, self.logtext()))
            try:
                self.status()
                return
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError("%s not ready:\n%s" % (self.name, self.logtext()))

    def logtext(self):
        self.logf.flush()
        with open(self.log) as f:
            return f.read()

    def ctl(self, *argv):
        return run(XNTSCTL, "-c", self.conf, *argv).stdout

    def status(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.sock)
        s.sendall(b"status json\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data)

    def wait_for(self, pred, what, timeout=10):
        end = time.time() + timeout
        st = None
        while time.time() < end:
            st = self.status()
            if pred(st):
                return st
            time.sleep(0.05)
        raise AssertionError("%s: timed out waiting for %s; status %s\nlog:\n%s"
                             % (self.name, what, json.dumps(st),
                                self.logtext()[-3000:]))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if not terminate(self.proc):
            raise AssertionError("%s ignored SIGTERM" % self.name)
        if not self.logf.closed:
            self.logf.close()
            # Every test doubles as a check of the seccomp allowlist: a call
            # the daemon makes but the list lacks is logged and fails here.
            blocked = [line for line in open(self.log) if "seccomp: blocked" in line]
            if blocked:
                raise AssertionError("%s: system calls refused by seccomp (add them to "
                                     "userspace/xntsd/privs.c if they are needed):\n%s"
                                     % (self.name, "".join(blocked)))
        return self.proc.returncode


def run_with_pki(tests):
    """Run test functions f(workdir, pki), each in its own directory, with
    one throwaway PKI for all; print KTAP and exit with the verdict."""
    k = Ktap(len(tests))
    with Workdir() as wd:
        pki = Pki(wd)
        for t in tests:
            with Workdir() as twd:
                k.case(t.__name__[2:], t, twd, pki)
    k.finish()


class Workdir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="xnts-test-")
        give(self.path)
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


# ---- An independent NTS-KE probe (RFC 8915 section 4) ----

REC_EOM, REC_NEXT, REC_ERROR, REC_WARN, REC_AEAD, REC_COOKIE = 0, 1, 2, 3, 4, 5
REC_SERVER, REC_PORT = 6, 7


def record(rtype, body=b"", critical=True):
    return struct.pack(">HH", rtype | (0x8000 if critical else 0),
                       len(body)) + body


def u16s(*vals):
    return b"".join(struct.pack(">H", v) for v in vals)


def request(aeads=(15,), protos=(0,), extra=b""):
    return (record(REC_NEXT, u16s(*protos)) + record(REC_AEAD, u16s(*aeads)) +
            extra + record(REC_EOM))


def parse_records(data):
    recs = []
    while data:
        check(len(data) >= 4, "truncated record header")
        t, n = struct.unpack(">HH", data[:4])
        check(len(data) >= 4 + n, "truncated record body")
        recs.append((t & 0x7fff, bool(t & 0x8000), data[4:4 + n]))
        data = data[4 + n:]
        if t & 0x7fff == REC_EOM:
            check(not data, "bytes after End of Message")
            return recs
    raise AssertionError("response without End of Message")


def tls_context(ca=None, alpn=("ntske/1",), tls12=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def ke_exchange(port, payload, ca=None, host="localhost", timeout=5, addr="127.0.0.1",
                **kw):
    """One exchange; returns (records, peer certificate DER)."""
    ctx = tls_context(ca, **kw)
    raw = socket.create_connection((addr, port), timeout=timeout)
    with ctx.wrap_socket(raw, server_hostname=host) as s:
        check(s.selected_alpn_protocol() == "ntske/1", "ALPN not ntske/1")
        cert = s.getpeercert(binary_form=True)
        s.sendall(payload)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ssl.SSLZeroReturnError:
                break
            if not chunk:
                break
            data += chunk
    return parse_records(data), cert


# ---- Interop peers, unpacked by tools/fetch-peers ----

PEERS = os.environ.get("XNTS_PEERS", os.path.join(TOP, "build", "cache", "peers"))
CHRONYD = os.path.join(PEERS, "chrony", "usr", "sbin", "chronyd")
CHRONYC = os.path.join(PEERS, "chrony", "usr", "bin", "chronyc")
NTPD = os.path.join(PEERS, "ntpsec", "usr", "sbin", "ntpd")

# Debian unstable's peers (tools/fetch-peers). chrony 4.9 and ntp-ctl need a
# newer glibc than the host's: they run through unstable's own loader and
# libraries, unpacked beside them. ntp-daemon runs as it is.
UNSTABLE = os.path.join(PEERS, "unstable", "root")
UNSTABLE_LIB = os.path.join(UNSTABLE, "usr", "lib", "x86_64-linux-gnu")
UNSTABLE_LD = [os.path.join(UNSTABLE_LIB, "ld-linux-x86-64.so.2"),
               "--library-path", UNSTABLE_LIB]
CHRONYD49 = UNSTABLE_LD + [os.path.join(UNSTABLE, "usr", "sbin", "chronyd")]
# chronyc 4.9 started as root switches to the _chrony user, which the host
# lacks; -u root keeps it as it is.
CHRONYC49 = UNSTABLE_LD + [os.path.join(UNSTABLE, "usr", "bin", "chronyc"), "-u", "root"]
NTP_DAEMON = os.path.join(UNSTABLE, "usr", "bin", "ntp-daemon")
NTP_CTL = UNSTABLE_LD + [os.path.join(UNSTABLE, "usr", "bin", "ntp-ctl")]


class Chronyd:
    """chronyd -x (it never touches the clock) with a config in dir; prefix
    as for Daemon. chronyd/chronyc are command prefixes: bookworm's 4.3 by
    default, CHRONYD49/CHRONYC49 for unstable's."""

    def __init__(self, d, name, config, prefix=(), chronyd=(CHRONYD,),
                 chronyc=(CHRONYC,)):
        self.dir = d
        self.name = name
        # chronyd wants its socket directory owned by itself (root), and d
        # may belong to xntsd's user: a directory of its own.
        self.rundir = tempfile.mkdtemp(prefix="xnts-chrony-")
        self.sock = os.path.join(self.rundir, name + ".chronyc.sock")
        self.conf = os.path.join(d, name + ".chrony.conf")
        self.log = os.path.join(d, name + ".chrony.log")
        with open(self.conf, "w") as f:
            f.write(config)
            f.write("\npidfile %s/%s.pid\nbindcmdaddress %s\ncmdport 0\n"
                    "ntsdumpdir %s\n" % (d, name, self.sock, d))
        self.logf = open(self.log, "w")
        self.chronyc_cmd = list(chronyc)
        self.proc = subprocess.Popen(list(prefix) + list(chronyd) +
                                     ["-x", "-d", "-u", "root", "-f", self.conf],
                                     stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError("chronyd did not start:\n" + self.logtext())
            time.sleep(0.05)

    def logtext(self):
        self.logf.flush()
        with open(self.log) as f:
            return f.read()

    def chronyc(self, *argv):
        return run(*self.chronyc_cmd, "-h", self.sock, "-n", *argv).stdout

    def stop(self):
        terminate(self.proc)
        self.logf.close()
        shutil.rmtree(self.rundir, ignore_errors=True)


CAP_SYS_TIME = 25


def capabilities(pid):
    """The CapEff and CapBnd masks of a process, from /proc."""
    caps = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("CapEff", "CapBnd"):
                caps[k] = int(v, 16)
    return caps


class NtpdRs:
    """ntpd-rs's ntp-daemon with a config in dir and its observation socket
    there (for ntp-ctl). It has no option that keeps it off the clock: with
    clock=False (the default) it runs under capsh without CAP_SYS_TIME in
    its bounding set, which the constructor checks in /proc; clock=True is
    for the VM guest only. prefix as for Daemon."""

    def __init__(self, d, name, config, clock=False, prefix=(), level="debug"):
        self.dir = d
        self.name = name
        self.conf = os.path.join(d, name + ".ntpd-rs.toml")
        self.log = os.path.join(d, name + ".ntpd-rs.log")
        self.sock = os.path.join(d, name + ".ntpd-rs.observe")
        with open(self.conf, "w") as f:
            f.write('[observability]\nlog-level = "%s"\nansi-colors = false\n'
                    'observation-path = "%s"\n\n' % (level, self.sock))
            f.write(config)
        argv = [NTP_DAEMON, "-c", self.conf]
        if not clock:
            argv = ["capsh", "--drop=cap_sys_time", "--", "-c", 'exec "$0" "$@"'] + argv
        if os.path.exists(self.sock):   # a previous run's: wait for ours
            os.unlink(self.sock)
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(list(prefix) + argv, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        # Generous: under TCG on a loaded host ntp-daemon takes a while.
        end = time.time() + 60
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError("ntpd-rs did not start:\n" + self.logtext())
            time.sleep(0.05)
        if not clock and not prefix:
            # capsh and then bash exec ntp-daemon in the same process
            check(os.readlink("/proc/%d/exe" % self.proc.pid) ==
                  os.path.realpath(NTP_DAEMON),
                  "ntp-daemon is the process started")
            caps = capabilities(self.proc.pid)
            check(not caps["CapEff"] & (1 << CAP_SYS_TIME) and
                  not caps["CapBnd"] & (1 << CAP_SYS_TIME),
                  "ntpd-rs runs with CAP_SYS_TIME: %r" % caps)

    def logtext(self):
        self.logf.flush()
        with open(self.log) as f:
            return f.read()

    def ctl(self, *argv):
        return run(*NTP_CTL, "-c", self.conf, *argv).stdout

    def metrics(self):
        """ntp-ctl status -f prometheus as {(name, labels): value}."""
        out = {}
        for line in self.ctl("status", "-f", "prometheus").splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, val = line.rpartition(" ")
            name, _, labels = key.partition("{")
            out[(name, labels.rstrip("}"))] = float(val)
        return out

    def metric(self, name, label=""):
        """The sum of a metric over the series whose labels contain label."""
        return sum(v for (n, lab), v in self.metrics().items()
                   if n == name and label in lab)

    def stop(self):
        terminate(self.proc)
        self.logf.close()


# ---- NTP helpers ----

def ntp_request(version=4, mode=3, tx=0x0123456789abcdef, extra=b""):
    h = bytearray(48)
    h[0] = (0 << 6) | (version << 3) | mode
    h[40:48] = struct.pack(">Q", tx)
    return bytes(h) + extra


def ntp_query(port, payload, host="127.0.0.1", timeout=1.0):
    """One datagram out; the answer, or None if none came."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, (host, port))
        return s.recv(4096)
    except socket.timeout:
        return None
    finally:
        s.close()


def ntp_fields(d):
    return {"leap": d[0] >> 6, "version": (d[0] >> 3) & 7, "mode": d[0] & 7,
            "stratum": d[1], "poll": d[2], "refid": d[12:16],
            "reference": struct.unpack(">Q", d[16:24])[0],
            "origin": struct.unpack(">Q", d[24:32])[0],
            "rx": struct.unpack(">Q", d[32:40])[0],
            "tx": struct.unpack(">Q", d[40:48])[0]}


def ef_list(d):
    """(type, body) of each extension field after the header."""
    out, off = [], 48
    while off + 4 <= len(d):
        t, n = struct.unpack(">HH", d[off:off + 4])
        if n < 4 or off + n > len(d):
            break
        out.append((t, d[off + 4:off + n]))
        off += n
    return out


class UdpProxy:
    """Relays client <-> server datagrams on loopback; `mangle(req, resp)`
    may return a different response, a list of datagrams to send in its
    place, or None to drop it."""

    def __init__(self, server_port):
        import threading
        self.server = ("127.0.0.1", server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.mangle = None
        self.stopped = False
        self.seen = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(1.0)
        while not self.stopped:
            try:
                req, client = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            up.sendto(req, self.server)
            try:
                resp = up.recv(4096)
            except socket.timeout:
                continue
            self.seen.append((req, resp))
            if self.mangle:
                resp = self.mangle(req, resp)
            for d in resp if isinstance(resp, list) else [resp]:
                if d is not None:
                    self.sock.sendto(d, client)

    def stop(self):
        self.stopped = True
        self.thread.join()
        self.sock.close()
