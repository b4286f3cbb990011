#!/usr/bin/env python3
"""Webhooks: ACR and CloudEvents payloads for pushes and deletes, custom headers and the
HMAC signature, scope and action filters, at-least-once in-order delivery through a dead
receiver, isolation of a healthy webhook from a dead one, and delivery after kill -9 of
Berth right after a push. The receivers are python HTTP servers the test runs."""
import hashlib
import hmac
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import BerthTestCase, Server, main, push_image, rand_name  # noqa: E402

DEADLINE = 90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Records every POST. status: what it answers; script: statuses answered to the first
    requests, before `status`. Not listening until start()."""

    def __init__(self, status=200, port=None, script=()):
        self.port = port or free_port()
        self.status = status
        self.script = list(script)
        self.requests = []  # (headers dict, body bytes) of every request
        self.answers = []   # (status, monotonic time received, time answered) of every request
        self.lock = threading.Lock()
        self.server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with rec.lock:
                    rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = rec.script.pop(0) if rec.script else rec.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
                with rec.lock:
                    rec.answers.append((status, received, time.monotonic()))

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def delivered(self):
        """(headers, parsed body) of every request received, whatever it was answered."""
        with self.lock:
            return [(h, json.loads(b)) for h, b in self.requests]

    def wait_for(self, pred, what, timeout=DEADLINE):
        end = time.time() + timeout
        while time.time() < end:
            got = self.delivered()
            if pred(got):
                return got
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; got %r" % (what, self.delivered()))


def acr_events(got, action=None):
    return [b for _, b in got if b.get("action") != "ping" and (action is None or b["action"] == action)]


class WebhookTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    def create(self, **doc):
        doc.setdefault("name", "wh" + rand_name("x").replace("-", "").replace("_", "")[:20])
        doc.setdefault("actions", ["push", "delete"])
        r = self.admin.json("POST", "/api/v1/webhooks", doc)
        self.assertStatus(r, 201)
        return r.json()

    def test_acr_payloads_headers_and_signature(self):
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        hook = self.create(serviceUri=rcv.url, customHeaders={"X-Custom": "yes"},
                           secret="s3cret-key", scope="acr/*")
        self.assertNotIn("secret", hook)
        self.assertTrue(hook["hasSecret"])
        self.assertEqual(hook["format"], "acr")
        repo = "acr/" + rand_name("app")
        tagged = push_image(self.admin, repo, "v1")
        by_digest = push_image(self.admin, repo)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, by_digest.digest)), 202)
        got = rcv.wait_for(lambda g: len(acr_events(g)) >= 4, "four events")
        events = acr_events(got)
        self.assertEqual([e["action"] for e in events], ["push", "push", "delete", "delete"])
        push1, push2, del_tag, del_digest = events
        self.assertEqual(set(push1), {"id", "timestamp", "action", "target", "request", "actor"})
        self.assertEqual(push1["actor"], {"name": "admin"})
        self.assertEqual(push1["target"], {
            "mediaType": tagged.media_type, "size": len(tagged.manifest), "digest": tagged.digest,
            "length": len(tagged.manifest), "repository": repo, "tag": "v1"})
        self.assertEqual(set(push1["request"]), {"id", "host", "method", "useragent"})
        self.assertEqual(push1["request"]["method"], "PUT")
        self.assertEqual(push1["request"]["host"], "127.0.0.1:%d" % self.srv.port)
        self.assertNotIn("tag", push2["target"])
        self.assertEqual(push2["target"]["digest"], by_digest.digest)
        self.assertEqual(del_tag["target"]["tag"], "v1")
        self.assertEqual(del_tag["target"]["digest"], tagged.digest)
        self.assertEqual(del_tag["request"]["method"], "DELETE")
        self.assertEqual(del_digest["target"]["digest"], by_digest.digest)
        self.assertEqual(del_digest["target"]["mediaType"], by_digest.media_type)
        self.assertEqual(len({e["id"] for e in events}), 4)
        for headers, body in rcv.requests:
            self.assertEqual(headers["x-custom"], "yes")
            self.assertTrue(headers["content-type"].startswith("application/json"))
            want = "sha256=" + hmac.new(b"s3cret-key", body, hashlib.sha256).hexdigest()
            self.assertEqual(headers["x-berth-signature"], want)

        # The delivery log: request and response of each, the secret nowhere. A delivery is
        # recorded just after the receiver answered it, so the last one may lag a moment.
        end = time.time() + DEADLINE
        while True:
            r = self.admin.get("/api/v1/webhooks/%s/events" % hook["name"])
            self.assertStatus(r, 200)
            log = r.json()["events"]
            if len(log) >= 4 or time.time() > end:
                break
            time.sleep(0.05)
        self.assertEqual(len(log), 4)
        for d in log:
            self.assertTrue(d["delivered"])
            self.assertEqual(d["response"]["status"], 200)
            self.assertEqual(d["response"]["body"], "ok")
            self.assertEqual(d["request"]["headers"]["X-Custom"], "yes")
        self.assertNotIn(b"s3cret-key", r.body)
        r = self.admin.get("/api/v1/webhooks/" + hook["name"])
        self.assertStatus(r, 200)
        self.assertNotIn(b"s3cret-key", r.body)

        # Ping.
        r = self.admin.json("POST", "/api/v1/webhooks/%s/ping" % hook["name"])
        self.assertStatus(r, 200)
        self.assertTrue(r.json()["delivered"], r.json())
        self.assertEqual(rcv.delivered()[-1][1]["action"], "ping")

    def test_cloudevents_format(self):
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        self.create(serviceUri=rcv.url, format="cloudevents", scope="ce/*:*")
        repo = "ce/" + rand_name("app")
        img = push_image(self.admin, repo, "latest")
        got = rcv.wait_for(lambda g: len(g) >= 1, "a cloud event")
        headers, ce = got[0]
        self.assertTrue(headers["content-type"].startswith("application/cloudevents+json"))
        self.assertEqual(ce["specversion"], "1.0")
        self.assertEqual(ce["type"], "com.berth.registry.push")
        self.assertEqual(ce["datacontenttype"], "application/json")
        self.assertEqual(ce["source"], "/v2/" + repo)
        self.assertEqual(ce["subject"], repo + ":latest")
        self.assertEqual(ce["id"], ce["data"]["id"])
        self.assertEqual(ce["time"], ce["data"]["timestamp"])
        self.assertEqual(ce["data"]["target"]["digest"], img.digest)
        self.assertNotIn("x-berth-signature", headers)

    def test_scope_and_action_filters(self):
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        base = "flt/" + rand_name("a")
        self.create(serviceUri=rcv.url, actions=["push"], scope=base + ":v*")
        push_image(self.admin, base, "v1")             # matches
        push_image(self.admin, base, "x1")             # tag does not match
        push_image(self.admin, base + "-other", "v1")  # repository does not match
        push_image(self.admin, base)                   # no tag: does not match "v*"
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % base), 202)  # action
        push_image(self.admin, base, "v2")             # matches: the sentinel
        got = rcv.wait_for(lambda g: any(b["target"].get("tag") == "v2" for _, b in g), "v2")
        self.assertEqual([(b["action"], b["target"]["repository"], b["target"].get("tag"))
                          for _, b in got], [("push", base, "v1"), ("push", base, "v2")])

    def test_dead_receiver_gets_everything_in_order_and_does_not_delay_others(self):
        dead = Receiver()  # not listening yet
        healthy = Receiver().start()
        self.addCleanup(dead.stop)
        self.addCleanup(healthy.stop)
        prefix = "dead/" + rand_name("r")
        self.create(serviceUri=dead.url, scope=prefix + "*")
        self.create(serviceUri=healthy.url, scope=prefix + "*")
        tags = ["t%d" % i for i in range(5)]
        for t in tags:
            push_image(self.admin, prefix, t)
        got = healthy.wait_for(lambda g: len(g) >= 5, "five events at the healthy receiver")
        self.assertEqual([b["target"]["tag"] for _, b in got], tags)
        # The dead one now answers 500 for a while, then recovers.
        dead.status = 500
        dead.start()
        dead.wait_for(lambda g: len(g) >= 1, "an attempt at the failing receiver")
        dead.status = 200
        got = dead.wait_for(lambda g: len({b["id"] for _, b in g}) >= 5, "five distinct events")
        self.assertGreater(len(got), 5, "the event answered 500 was not sent again")
        # At least once: retries repeat the head event; after de-duplication, in order.
        seen = []
        for _, b in got:
            if not seen or seen[-1]["id"] != b["id"]:
                seen.append(b)
        self.assertEqual([b["target"]["tag"] for b in seen], tags)

    def test_an_event_answered_500_is_sent_again(self):
        rcv = Receiver(script=[500]).start()  # 500 to the first request, 200 after
        self.addCleanup(rcv.stop)
        repo = "retry/" + rand_name("app")
        hook = self.create(serviceUri=rcv.url, actions=["push"], scope=repo)
        img = push_image(self.admin, repo, "v1")
        # Retried after 1 s (docs/webhooks.md): well within the wait.
        got = rcv.wait_for(lambda g: len(g) >= 2, "a second attempt after the 500", timeout=30)
        time.sleep(1.5)  # nothing more once answered 200
        with rcv.lock:
            answers = list(rcv.answers)
        self.assertEqual([a[0] for a in answers], [500, 200])
        self.assertEqual(len(rcv.delivered()), 2)
        (_, first), (_, second) = got[:2]
        self.assertEqual(second["id"], first["id"])  # the same event again
        self.assertEqual(second["target"]["digest"], img.digest)
        (_, _, first_answered), (_, second_received, _) = answers
        self.assertGreaterEqual(second_received - first_answered, 0.9, "retried before the backoff")
        # One delivery record: two attempts, the last one answered 200.
        end = time.time() + DEADLINE
        while True:
            r = self.admin.get("/api/v1/webhooks/%s/events" % hook["name"])
            self.assertStatus(r, 200)
            log = r.json()["events"]
            if (log and log[0]["delivered"]) or time.time() > end:
                break
            time.sleep(0.05)
        self.assertEqual(len(log), 1, log)
        self.assertEqual(log[0]["attempts"], 2)
        self.assertTrue(log[0]["delivered"])
        self.assertEqual(log[0]["response"]["status"], 200)

    def test_repository_delete_fires_a_delete_per_manifest(self):
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        repo = "gone/" + rand_name("app")
        self.create(serviceUri=rcv.url, scope=repo + ":*", actions=["delete"])
        a = push_image(self.admin, repo, "v1")
        b = push_image(self.admin, repo, "v2")
        self.assertStatus(self.admin.delete("/acr/v1/" + repo), 202)
        got = rcv.wait_for(lambda g: len(acr_events(g)) >= 2, "two delete events")
        events = acr_events(got)
        self.assertEqual(sorted((e["action"], e["target"]["digest"]) for e in events),
                         sorted([("delete", a.digest), ("delete", b.digest)]))
        for e in events:
            self.assertEqual(e["target"]["repository"], repo)
            self.assertEqual(e["target"]["mediaType"], a.media_type)
            self.assertEqual(e["request"]["method"], "DELETE")

    def test_metrics_count_deliveries_failures_and_queue(self):
        # A server of its own: the queue depth sums over every webhook of the registry.
        srv = Server(auth=True).start()
        self.addCleanup(srv.stop)
        admin = srv.admin()

        def metrics():
            r = admin.get("/metrics")
            self.assertStatus(r, 200)
            out = {}
            for line in r.body.decode().splitlines():
                if line.startswith("berth_webhook_"):
                    name, v = line.split(" ")
                    out[name] = float(v)
            return out

        self.assertEqual(metrics(), {"berth_webhook_deliveries_total": 0.0,
                                     "berth_webhook_delivery_failures_total": 0.0,
                                     "berth_webhook_queue_depth": 0.0})
        rcv = Receiver(status=500).start()
        self.addCleanup(rcv.stop)
        r = admin.json("POST", "/api/v1/webhooks", {"name": "metered", "serviceUri": rcv.url, "actions": ["push"]})
        self.assertStatus(r, 201)
        for t in ("a", "b", "c"):
            push_image(admin, "metered/app", t)
        rcv.wait_for(lambda g: len(g) >= 2, "two failed attempts")
        m = metrics()
        self.assertGreaterEqual(m["berth_webhook_delivery_failures_total"], 2)
        self.assertEqual(m["berth_webhook_deliveries_total"], 0)
        self.assertEqual(m["berth_webhook_queue_depth"], 3)  # stuck at the first event
        rcv.status = 200
        rcv.wait_for(lambda g: len({b["id"] for _, b in g}) >= 3, "three distinct events")
        end = time.time() + DEADLINE
        while metrics()["berth_webhook_queue_depth"] != 0 and time.time() < end:
            time.sleep(0.05)
        m = metrics()
        self.assertEqual(m["berth_webhook_queue_depth"], 0)
        self.assertEqual(m["berth_webhook_deliveries_total"], 3)

    def test_bad_requests(self):
        r = self.admin.json("POST", "/api/v1/webhooks", {"name": "bad", "serviceUri": "http://x/", "actions": ["push"]})
        self.assertStatus(r, 400)
        r = self.admin.json("POST", "/api/v1/webhooks", {"name": "goodname", "serviceUri": "ftp://x/", "actions": ["push"]})
        self.assertStatus(r, 400)
        r = self.admin.json("POST", "/api/v1/webhooks", {"name": "goodname", "serviceUri": "http://x/", "actions": ["pull"]})
        self.assertStatus(r, 400)
        # A region names the replica that delivers: there are none without replication.
        r = self.admin.json("POST", "/api/v1/webhooks", {"name": "goodname", "serviceUri": "http://x/",
                                                         "actions": ["push"], "region": "eastus"})
        self.assertStatus(r, 400)
        self.assertEqual(r.json()["errors"][0]["message"],
                         "region cannot be set: replication is not configured on this registry")
        self.assertStatus(self.admin.get("/api/v1/webhooks/nosuchhook"), 404)
        self.assertStatus(self.srv.get("/api/v1/webhooks"), 401)
        hook = self.create(serviceUri="http://127.0.0.1:9/", status="disabled")
        r = self.admin.json("PATCH", "/api/v1/webhooks/" + hook["name"], {"status": "enabled", "scope": "a/*"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["status"], "enabled")
        self.assertEqual(r.json()["scope"], "a/*")
        self.assertEqual(r.json()["region"], "")
        names = [w["name"] for w in self.admin.get("/api/v1/webhooks").json()["webhooks"]]
        self.assertIn(hook["name"], names)
        self.assertStatus(self.admin.delete("/api/v1/webhooks/" + hook["name"]), 204)
        self.assertStatus(self.admin.get("/api/v1/webhooks/" + hook["name"]), 404)

    def berth(self, *args):
        p = self.srv.berth(*args)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def test_cli_commands(self):
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        hook = self.berth("webhook", "create", "clihook1", "--uri", rcv.url, "--actions", "push,delete",
                          "--headers", "X-One=1", "--headers", "X-Two=2", "--scope", "cli/*",
                          "--secret", "clisecret", "--format", "cloudevents")
        self.assertEqual(hook["customHeaders"], {"X-One": "1", "X-Two": "2"})
        self.assertEqual(hook["actions"], ["push", "delete"])
        self.assertTrue(hook["hasSecret"])
        self.assertEqual(self.berth("webhook", "show", "clihook1")["scope"], "cli/*")
        self.assertIn("clihook1", [w["name"] for w in self.berth("webhook", "list")["webhooks"]])
        hook = self.berth("webhook", "update", "clihook1", "--format", "acr", "--secret", "")
        self.assertFalse(hook["hasSecret"])
        self.assertEqual(hook["format"], "acr")
        self.assertTrue(self.berth("webhook", "ping", "clihook1")["delivered"])
        self.assertEqual(self.berth("webhook", "list-events", "clihook1")["events"][0]["action"], "ping")
        self.berth("webhook", "delete", "clihook1")
        names = [w["name"] for w in self.berth("webhook", "list")["webhooks"]]
        self.assertNotIn("clihook1", names)


class WebhookCrashTest(BerthTestCase):
    start_server = False

    def test_kill9_right_after_push_still_delivers(self):
        srv = Server(auth=True).start()
        admin = srv.admin()
        rcv = Receiver()  # down: nothing can be delivered before the kill
        self.addCleanup(rcv.stop)
        r = admin.json("POST", "/api/v1/webhooks", {"name": "crashhook", "serviceUri": rcv.url,
                                                    "actions": ["push"]})
        self.assertStatus(r, 201)
        img = push_image(admin, "crash/app", "v1")
        srv.proc.kill()
        srv.proc.wait()
        rcv.start()
        srv.start()
        got = rcv.wait_for(lambda g: len(g) >= 1, "the event pushed before kill -9")
        self.assertEqual(got[0][1]["target"]["digest"], img.digest)
        srv.stop()


if __name__ == "__main__":
    main()
