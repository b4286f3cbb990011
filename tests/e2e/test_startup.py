#!/usr/bin/env python3
"""Start-up refusals: the embedded engines belong to one process (a second `berth serve`
on the same data directory refuses, naming the holder; kill -9 of the holder frees it),
and a storage or metadata setting that cannot work is an error naming the setting, never
a silent fallback to the data directory."""
import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import Server, ServerStartError, _free_port, main, push_blob, rand_bytes  # noqa: E402
from engines import Azurite, Postgres, S3rver, require  # noqa: E402


class StartupTest(unittest.TestCase):
    def assertStartFails(self, srv, *needles):
        with self.assertRaises(ServerStartError) as cm:
            srv.start()
        msg = str(cm.exception)
        for n in needles:
            self.assertIn(n, msg)
        self.assertNotEqual(srv.proc.returncode, 0)
        return msg

    def test_second_process_on_the_same_data_directory_refuses(self):
        first = Server().start()
        d = push_blob(first, "lock/app", rand_bytes(1000, seed=1))
        second = Server(data_dir=first.data_dir)
        self.assertStartFails(second, "data directory %s is in use" % first.data_dir,
                              "berth pid %d" % first.proc.pid)
        # the refused process touched nothing: the first still serves what it had
        self.assertEqual(first.head("/v2/lock/app/blobs/" + d).status, 200)
        # kill -9 frees the directory (the kernel drops the lock); the data is intact
        first.kill()
        second.start()
        self.assertEqual(second.head("/v2/lock/app/blobs/" + d).status, 200)
        second.stop()

    def test_settings_a_driver_needs_are_named(self):
        for config, needle in [
            ("meta:\n  driver: postgresql\n", "meta.dsn"),
            ("storage:\n  driver: s3\n", "storage.s3.bucket"),
            ("storage:\n  driver: azure\n", "storage.azure.container"),
            ("storage:\n  redirect: true\n", "storage.redirect"),
            ("meta:\n  driver: oracle\n", "meta.driver"),
        ]:
            with self.subTest(config=config):
                srv = Server(config=config)
                self.assertStartFails(srv, needle)
                self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "meta.db")),
                                 "a refused configuration must not fall back to the data directory")


class EngineSettingsTest(unittest.TestCase):
    """A wrong DSN, a missing bucket or container, refused keys: start-up stops with a
    message naming the setting (never a crash, never local storage instead); no secret in
    the message."""

    def assertRefused(self, config, env, *needles, secret=None):
        srv = Server(config=config, env=env)
        with self.assertRaises(ServerStartError) as cm:
            srv.start()
        msg = str(cm.exception)
        for n in needles:
            self.assertIn(n, msg)
        if secret:
            self.assertNotIn(secret, msg)
        self.assertNotIn("Segmentation", msg)
        self.assertEqual(srv.proc.returncode, 1, msg)
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "blobs")), "fell back to the data directory")

    def test_postgresql(self):
        pg = require(Postgres())
        pg.create_database("exists")
        closed = "postgresql://berth:hunter22@127.0.0.1:%d/exists" % _free_port()
        self.assertRefused("meta:\n  driver: postgresql\n  dsn: '%s'\n" % closed, {}, "meta.dsn", secret="hunter22")
        self.assertRefused("meta:\n  driver: postgresql\n  dsn: '%s'\n" % pg.dsn("nope"), {}, "meta.dsn", "nope")
        self.assertRefused("meta:\n  driver: postgresql\n  dsn: 'not a dsn at all'\n", {}, "meta.dsn")

    def test_s3(self):
        s3 = require(S3rver())
        good = s3.env()
        self.assertRefused(s3.config().replace("bucket: registry", "bucket: missing"), good,
                           "storage.s3.bucket", "missing")
        self.assertRefused(s3.config(), {"AWS_ACCESS_KEY_ID": "WRONG", "AWS_SECRET_ACCESS_KEY": "wrong-secret-1"},
                           "storage.s3", secret="wrong-secret-1")
        self.assertRefused(s3.config(), {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "AWS_ACCESS_KEY_ID")
        closed = s3.config().replace(s3.endpoint, "http://127.0.0.1:%d" % _free_port())
        self.assertRefused(closed, good, "storage.s3")

    def test_azure(self):
        az = require(Azurite())
        good = az.env()
        self.assertRefused(az.config().replace("container: registry", "container: missing"), good,
                           "storage.azure.container", "missing")
        wrong = dict(good, AZURE_STORAGE_KEY=base64.b64encode(b"x" * 64).decode())
        self.assertRefused(az.config(), wrong, "storage.azure", secret=wrong["AZURE_STORAGE_KEY"])
        self.assertRefused(az.config(), {"AZURE_STORAGE_ACCOUNT": "", "AZURE_STORAGE_KEY": ""}, "AZURE_STORAGE_ACCOUNT")


if __name__ == "__main__":
    main()
