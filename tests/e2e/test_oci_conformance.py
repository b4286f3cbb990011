#!/usr/bin/env python3
"""The official OCI distribution-spec conformance suite (v1.1.1, every category: pull,
push, content discovery with referrers, content management, automatic cross-mount)
against a fresh Berth, once with authentication on (the default: Basic admin, token
challenges) and once with `auth: none`. Every spec must pass: 0 FAIL, 0 Error.

The compiled suite is not part of this repository: it is looked for in
$OCI_CONFORMANCE_DIR, then ../shared/oci-conformance beside the checkout (where CI has
it). Without it the test is skipped, except under CI (CI=true), where it fails."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import REPO_ROOT, Server, main, mkdtemp  # noqa: E402


def suite_dir():
    for d in (os.environ.get("OCI_CONFORMANCE_DIR"),
              os.path.join(os.path.dirname(REPO_ROOT), "shared", "oci-conformance")):
        if d and os.access(os.path.join(d, "run.sh"), os.X_OK):
            return d
    return None


def summary(text):
    """{"Pass": n, "FAIL": n, "Error": n, "Skip": n} from run.sh's closing lines."""
    out = {}
    for key in ("Pass", "FAIL", "Error", "Skip"):
        m = re.search(r"^\s*%s\.*: (\d+)$" % key, text, re.M)
        out[key] = int(m.group(1)) if m else None
    return out


class OciConformanceTest(unittest.TestCase):
    maxDiff = None

    def run_suite(self, srv, env):
        d = suite_dir()
        if d is None:
            if os.environ.get("CI"):
                self.fail("the OCI conformance suite is missing (../shared/oci-conformance)")
            self.skipTest("no OCI conformance suite (set OCI_CONFORMANCE_DIR)")
        report = mkdtemp("berth-oci-")
        full_env = dict(os.environ, **env)
        proc = subprocess.run([os.path.join(d, "run.sh"), "127.0.0.1:%d" % srv.port, report, "all"],
                              env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=480)
        text = proc.stdout.decode(errors="replace")
        counts = summary(text)
        print("OCI conformance (%s): %s" % ("auth" if env else "no auth", counts), file=sys.stderr)
        failed = re.findall(r"^\s*\[FAIL\].*$", text, re.M)
        self.assertEqual((counts["FAIL"], counts["Error"]), (0, 0),
                         "conformance failures:\n%s\n...\n%s" % ("\n".join(failed), text[-3000:]))
        self.assertGreaterEqual(counts["Pass"] or 0, 70, text[-3000:])
        self.assertEqual(proc.returncode, 0, text[-3000:])

    def test_with_authentication(self):
        with Server(auth=True) as srv:
            self.run_suite(srv, {"OCI_USERNAME": "admin", "OCI_PASSWORD": Server.ADMIN_PASSWORD})

    def test_without_authentication(self):
        with Server() as srv:
            self.run_suite(srv, {})


if __name__ == "__main__":
    main()
