"""Throwaway certificates for the TLS and proxy e2e tests, made with the openssl CLI:
a CA; registry.test + IP 127.0.0.1 (meant as the default certificate); *.custom.test
signed by an intermediate and served with its chain; an encrypted copy of a key."""
import os
import re
import shutil
import ssl
import subprocess

from berthtest import mkdtemp


def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True)
    if p.returncode != 0:
        raise AssertionError("openssl %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))


class Certs:
    """A throwaway PKI in a temp dir; paths as attributes."""

    def __init__(self):
        self.dir = d = mkdtemp("berth-e2e-tls-")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=Berth Test CA", cwd=d)
        self._write("ca_ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        self._leaf("inter", "/CN=Berth Test Intermediate", "ca", "ca_ext")
        self._write("registry_ext", "subjectAltName=DNS:registry.test,IP:127.0.0.1\n"
                                    "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        self._leaf("registry", "/CN=registry.test", "ca", "registry_ext")
        self._write("custom_ext", "subjectAltName=DNS:*.custom.test\n"
                                  "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        self._leaf("custom", "/CN=custom.test", "inter", "custom_ext")
        # The custom certificate is served with its intermediate: leaf first, then the chain.
        with open(self.path("custom_chain.crt"), "wb") as out:
            for part in ("custom.crt", "inter.crt"):
                with open(self.path(part), "rb") as f:
                    out.write(f.read())
        openssl("pkey", "-in", "registry.key", "-out", "encrypted.key", "-aes256", "-passout", "pass:secret", cwd=d)
        self.ca = self.path("ca.crt")
        # skopeo's --*-cert-dir: a directory holding ca.crt.
        self.cert_dir = os.path.join(d, "certs.d")
        os.makedirs(self.cert_dir)
        shutil.copy(self.ca, os.path.join(self.cert_dir, "ca.crt"))

    def path(self, name):
        return os.path.join(self.dir, name)

    def _write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def _leaf(self, name, subject, issuer, ext):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject, cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", issuer + ".crt", "-CAkey", issuer + ".key",
                "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", ext, cwd=self.dir)

    def config(self, extra=""):
        return ("tls:\n  certificates:\n"
                "    - {cert: %s, key: %s}\n    - {cert: %s, key: %s}\n"
                % (self.path("registry.crt"), self.path("registry.key"),
                   self.path("custom_chain.crt"), self.path("custom.key"))) + extra

    def client_context(self, check_hostname=True):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = check_hostname
        return ctx


CERTS = None


def certs():
    global CERTS
    if CERTS is None:
        CERTS = Certs()
    return CERTS


def curl_https(ca, hostname, port, *args, timeout=120):
    """Runs curl against https://HOSTNAME:PORT (resolved to 127.0.0.1, verified with `ca`);
    "BASE" in an argument stands for that URL. Returns stdout; raises when curl fails."""
    base = "https://%s:%d" % (hostname, port)
    argv = ["curl", "-sS", "--fail-with-body", "--cacert", ca, "--resolve", "%s:%d:127.0.0.1" % (hostname, port)]
    argv += [a.replace("BASE", base) for a in args]
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("%s exited %d: %s %s" % (" ".join(argv), p.returncode,
                                                      p.stderr.decode(errors="replace"), p.stdout[:500]))
    return p.stdout


def location_of(raw_headers):
    """The Location header in curl -D output."""
    m = re.search(rb"(?im)^location:\s*(\S+)", raw_headers)
    assert m, "no Location in %r" % raw_headers
    return m.group(1).decode()
