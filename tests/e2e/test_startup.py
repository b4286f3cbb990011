#!/usr/bin/env python3
"""Start-up refusals: the embedded engines belong to one process (a second `berth serve`
on the same data directory refuses, naming the holder; kill -9 of the holder frees it),
and a storage or metadata setting that cannot work is an error naming the setting, never
a silent fallback to the data directory."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import Server, ServerStartError, main, push_blob, rand_bytes  # noqa: E402


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


if __name__ == "__main__":
    main()
