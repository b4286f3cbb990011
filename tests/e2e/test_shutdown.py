#!/usr/bin/env python3
"""Graceful shutdown: SIGTERM while a slow upload (or download) is in flight lets that
request complete, refuses new connections, and exits 0; idle keep-alive connections do
not hold the process; what the drained request wrote survives a restart."""
import http.client
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, add_query, digest, location_path, main,  # noqa: E402
                       push_blob, rand_bytes)

MiB = 1024 * 1024


def probe_new_connection(host, port, timeout=2.0):
    """'refused', 'closed' (accepted then closed unanswered), 'answered:<status line>' or
    'hung' (accepted by the kernel, never answered)."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "hung"
    with s:
        try:
            s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return "closed"
        except socket.timeout:
            return "hung"
    if not data:
        return "closed"
    return "answered:" + data.split(b"\r\n")[0].decode("latin-1")


class ShutdownTest(BerthTestCase):
    start_server = False

    def slow_upload_with_sigterm(self, srv, probe=False):
        """PATCHes 2 MiB over ~1.6 s, SIGTERMs the server 0.4 s in. Returns (response or
        exception, session location, data, probe result during drain, exit code)."""
        r = srv.request("POST", "/v2/shut/down/blobs/uploads/")
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        data = rand_bytes(2 * MiB)
        step = 64 * 1024

        def body():
            for i in range(0, len(data), step):
                yield data[i:i + step]
                time.sleep(0.05)

        result = {}

        def run():
            try:
                result["resp"] = srv.request("PATCH", loc, body=body(), timeout=60, headers={
                    "Content-Type": "application/octet-stream", "Content-Length": str(len(data)),
                    "Content-Range": "0-%d" % (len(data) - 1)})
            except Exception as e:
                result["error"] = e

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.4)
        self.assertTrue(t.is_alive(), "upload finished too early to test anything")
        srv.signal(signal.SIGTERM)
        seen = None
        if probe:
            time.sleep(0.3)
            in_flight = t.is_alive()
            seen = probe_new_connection(srv.host, srv.port)
            self.assertTrue(in_flight, "the upload ended before the probe")
        t.join(60)
        self.assertFalse(t.is_alive())
        try:
            rc = srv.proc.wait(30)
        except Exception:
            srv.kill()
            self.fail("server did not exit within 30 s of SIGTERM")
        return result.get("resp", result.get("error")), loc, data, seen, rc

    def test_inflight_upload_completes_and_exit_0(self):
        srv = Server()
        srv.start()
        try:
            resp, loc, data, _, rc = self.slow_upload_with_sigterm(srv)
            self.assertNotIsInstance(resp, Exception, "in-flight PATCH failed: %r" % resp)
            self.assertStatus(resp, 202)
            self.assertEqual(resp.header("Range"), "0-%d" % (len(data) - 1))
            self.assertEqual(rc, 0, srv.log_tail())
            self.assertEqual(probe_new_connection(srv.host, srv.port), "refused")
            # What the drained request wrote is durable.
            if resp.header("Location"):
                loc = location_path(resp.header("Location"))
            srv.start()
            st = srv.get(loc)
            self.assertStatus(st, 204)
            self.assertEqual(st.header("Range"), "0-%d" % (len(data) - 1))
            r = srv.request("PUT", add_query(location_path(st.header("Location") or loc), digest=digest(data)))
            self.assertStatus(r, 201)
            self.assertBlob(srv, "shut/down", data)
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.kill()

    def test_new_connections_refused_during_drain(self):
        srv = Server()
        srv.start()
        try:
            resp, _, _, seen, rc = self.slow_upload_with_sigterm(srv, probe=True)
            self.assertIn(seen, ("refused", "closed"),
                          "a new connection during the drain was %s (want refused)" % seen)
            self.assertNotIsInstance(resp, Exception, "in-flight PATCH failed: %r" % resp)
            self.assertStatus(resp, 202)
            self.assertEqual(rc, 0)
        finally:
            srv.kill()

    def test_inflight_download_completes(self):
        srv = Server()
        srv.start()
        try:
            data = rand_bytes(24 * MiB)
            d = push_blob(srv, "shut/dl", data)
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
            conn.request("GET", "/v2/shut/dl/blobs/%s" % d)
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            got = r.read(MiB)
            srv.signal(signal.SIGTERM)
            while True:
                time.sleep(0.02)
                chunk = r.read(MiB)
                if not chunk:
                    break
                got += chunk
            conn.close()
            self.assertEqual(len(got), len(data))
            self.assertTrue(got == data, "download differs after SIGTERM")
            self.assertEqual(srv.proc.wait(30), 0)
        finally:
            srv.kill()

    def test_idle_keepalive_does_not_block_exit(self):
        srv = Server()
        srv.start()
        try:
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
            conn.request("GET", "/v2/")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            rc = srv.proc.wait(30)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 10, "an idle keep-alive connection delayed exit")
            conn.close()
        finally:
            srv.kill()

    def test_sigterm_and_sigint_when_idle(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            srv = Server()
            srv.start()
            try:
                t0 = time.monotonic()
                srv.signal(sig)
                self.assertEqual(srv.proc.wait(30), 0, srv.log_tail())
                self.assertLess(time.monotonic() - t0, 5)
                self.assertEqual(probe_new_connection(srv.host, srv.port), "refused")
            finally:
                srv.kill()


if __name__ == "__main__":
    main()
