#!/usr/bin/env python3
"""GET /metrics: counters move by exactly the requests made, the output passes
`promtool check metrics`, and with authentication on only owner/reader on "*" (or anyone
with metrics.anonymous) may scrape."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import BerthTestCase, Server, main, push_image  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse(text):
    """{(name, labels): value} of every sample; labels as a sorted tuple of pairs."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class MetricsTestMixin:
    def scrape(self, client=None):
        r = (client or self.srv).get("/metrics")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Type"), CONTENT_TYPE)
        return r.body.decode(), parse(r.body.decode())

    def promtool(self, text):
        promtool = shutil.which("promtool")
        if promtool is None:
            raise unittest.SkipTest("promtool not installed (Debian package prometheus)")
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, "promtool:\n%s%s" % (p.stdout.decode(), p.stderr.decode()))


class OpenMetricsTest(MetricsTestMixin, BerthTestCase):
    """auth: none: /metrics is open."""

    def test_counters_move_by_exactly_the_requests_made(self):
        srv = self.srv
        image = push_image(srv, "metrics/app", "v1")
        _, before = self.scrape()
        for _ in range(3):
            self.assertStatus(srv.get("/v2/metrics/app/manifests/v1",
                                      headers={"Accept": image.media_type}), 200)
        self.assertStatus(srv.get("/v2/metrics/app/manifests/missing"), 404)
        _, after = self.scrape()

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(moved("berth_http_requests_total", route="manifest", method="GET", code="200"), 3)
        self.assertEqual(moved("berth_http_requests_total", route="manifest", method="GET", code="404"), 1)
        # The first scrape itself, counted once it was answered.
        self.assertEqual(moved("berth_http_requests_total", route="metrics", method="GET", code="200"), 1)
        self.assertEqual(moved("berth_http_request_duration_seconds_count", route="manifest", method="GET"), 4)
        self.assertEqual(moved("berth_http_request_duration_seconds_bucket", route="manifest", method="GET",
                               le="+Inf"), 4)
        # The repeated GETs are answered from the cache (the first may fill it).
        self.assertGreaterEqual(moved("berth_manifest_cache_hits_total"), 2)
        self.assertGreaterEqual(moved("berth_manifest_cache_misses_total"), 1)  # "missing"
        self.assertGreaterEqual(moved("berth_http_response_bytes_total", route="manifest"),
                                3 * len(image.manifest))
        self.assertEqual(value(after, "berth_uploads_active"), 0)
        self.assertGreaterEqual(value(after, "berth_http_connections"), 1)
        self.assertGreater(value(after, "berth_storage_available_bytes"), 0)
        self.assertEqual(value(after, "berth_build_info", version="0.1.0"), 1)

    def test_uploads_are_labelled_upload(self):
        _, before = self.scrape()
        r = self.srv.request("POST", "/v2/metrics/up/blobs/uploads/")
        self.assertStatus(r, 202)
        # A request is counted once its response has gone out: the scrape may come first.
        def counted():
            _, after = self.scrape()
            return value(after, "berth_http_requests_total", route="upload", method="POST", code="202") - \
                value(before, "berth_http_requests_total", route="upload", method="POST", code="202")
        deadline = time.monotonic() + 10
        while counted() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(counted(), 1)

    def test_uploads_active_counts_a_body_in_flight(self):
        r = self.srv.request("POST", "/v2/metrics/slow/blobs/uploads/")
        self.assertStatus(r, 202)
        path = r.header("Location")
        with socket.create_connection((self.srv.host, self.srv.port), timeout=10) as s:
            s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: 10\r\n\r\nabcd" % path).encode())
            deadline = time.monotonic() + 10
            while value(self.scrape()[1], "berth_uploads_active") != 1:
                self.assertLess(time.monotonic(), deadline, "berth_uploads_active never reached 1")
                time.sleep(0.05)
            s.sendall(b"efghij")
            self.assertIn(b" 202 ", s.recv(4096))
        deadline = time.monotonic() + 10
        while value(self.scrape()[1], "berth_uploads_active") != 0:
            self.assertLess(time.monotonic(), deadline, "berth_uploads_active stayed up")
            time.sleep(0.05)

    def test_unknown_method_and_route_labels_stay_bounded(self):
        self.srv.request("BREW", "/v2/")
        self.srv.get("/nowhere")
        text, samples = self.scrape()
        self.assertGreaterEqual(value(samples, "berth_http_requests_total", route="base", method="other",
                                      code="405"), 1)
        self.assertGreaterEqual(value(samples, "berth_http_requests_total", route="other", method="GET",
                                      code="404"), 1)
        self.assertNotIn("BREW", text)
        self.assertNotIn("nowhere", text)

    def test_promtool_accepts_the_output(self):
        push_image(self.srv, "metrics/lint", "v1")
        text, _ = self.scrape()
        for family in ("berth_http_requests_total", "berth_http_request_duration_seconds",
                       "berth_http_request_bytes_total", "berth_http_response_bytes_total",
                       "berth_http_connections", "berth_uploads_active", "berth_manifest_cache_hits_total",
                       "berth_manifest_cache_misses_total", "berth_storage_available_bytes",
                       "berth_build_info"):
            self.assertIn("# TYPE %s " % family, text)
        self.promtool(text)

    def test_head_and_other_methods(self):
        self.assertStatus(self.srv.head("/metrics"), 200)
        r = self.srv.request("POST", "/metrics")
        self.assertError(r, 405)


class AuthMetricsTest(MetricsTestMixin, BerthTestCase):
    """Authentication on: owner or reader on "*" may scrape; nobody else."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    def make_user(self, name, role, scope="*"):
        password = name + "-password"
        r = self.admin.json("POST", "/api/v1/users", {"name": name, "password": password})
        self.assertStatus(r, 201)
        if role:
            r = self.admin.json("POST", "/api/v1/role-assignments", {"identity": name, "role": role, "scope": scope})
            self.assertStatus(r, 201)
        return self.srv.basic(name, password)

    def test_anonymous_is_refused(self):
        r = self.srv.get("/metrics")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertNotIn(b"berth_http", r.body)

    def test_admin_and_reader_may_scrape(self):
        self.srv.get("/metrics")  # refused, and counted as such
        text, samples = self.scrape(self.admin)
        self.assertGreaterEqual(value(samples, "berth_http_requests_total", route="metrics", method="GET",
                                      code="401"), 1)
        self.promtool(text)
        self.scrape(self.make_user("watcher", "reader"))

    def test_others_are_denied(self):
        for name, role, scope in (("puller", "pull", "*"), ("narrow", "reader", "team/*"), ("nobody", None, "*")):
            r = self.make_user(name, role, scope).get("/metrics")
            self.assertError(r, 403, "DENIED")


class AnonymousMetricsTest(MetricsTestMixin, BerthTestCase):
    """metrics.anonymous: true opens /metrics, and only /metrics."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config="metrics:\n  anonymous: true\n").start()

    def test_open_without_credentials(self):
        self.scrape()
        self.assertError(self.srv.get("/v2/"), 401, "UNAUTHORIZED")


class StorageTotalsTest(MetricsTestMixin, BerthTestCase):
    """The stored totals: deduplicated bytes and counts, on a server of its own (the first
    scrape reads them; later ones may reuse that for a few seconds)."""

    def test_totals_count_each_digest_once(self):
        a = push_image(self.srv, "totals/a", "v1", n_layers=2)
        push_image(self.srv, "totals/b", "v1", image=a)  # the same image again: no new bytes
        b = push_image(self.srv, "totals/b", "v2")
        _, samples = self.scrape()
        expected = sum(len(x) for img in (a, b) for x in [img.manifest, img.config] + list(img.layers))
        self.assertEqual(value(samples, "berth_storage_stored_bytes"), expected)
        self.assertEqual(value(samples, "berth_repositories"), 2)
        self.assertEqual(value(samples, "berth_manifests"), 3)
        self.assertEqual(value(samples, "berth_tags"), 3)
        self.assertEqual(value(samples, "berth_blobs"), 5)


if __name__ == "__main__":
    main()
