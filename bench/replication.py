"""Geo-replication benchmark (docs/replication.md): two replicas on loopback, linked through
the e2e tests' link proxy (optionally adding WAN delay each way).

  lag:      push acknowledged in A -> pullable in B, p50/p99, small manifests and a large
            image; with no added delay and with BENCH_DELAY_MS (default 40) each way
  catch-up: the link cut, N tags pushed to A, the link restored: tags/s until B has all

Prints a table; figures go in bench/README.md. Not a test: nothing here asserts."""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("BERTH_BIN", sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "berth"))

from berthtest import make_image, push_image  # noqa: E402
from test_replication import Replicas, manifest, tags  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SMALL = 20 if QUICK else 200
BIG_MB = 16 if QUICK else 256
CATCH_UP = 100 if QUICK else 1000
DELAY = float(os.environ.get("BENCH_DELAY_MS", "40")) / 1000.0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def lag_of(a, b, repo, tag, image):
    push_image(a, repo, tag, image=image)
    acked = time.monotonic()
    while manifest(b, repo, tag).header("Docker-Content-Digest") != image.digest:
        time.sleep(0.002)
    return time.monotonic() - acked


def run(delay):
    r = Replicas(["a", "b"], delay=delay).start()
    try:
        a, b = r["a"], r["b"]
        small = [lag_of(a, b, "bench/small", "t%d" % i, make_image(n_layers=1, layer_size=512)) for i in range(SMALL)]
        big = [lag_of(a, b, "bench/big", "t%d" % i, make_image(n_layers=4, layer_size=BIG_MB * 1024 * 1024 // 4))
               for i in range(1 if QUICK else 2)]
        r.cut("a", "b")
        base = make_image(n_layers=1, layer_size=1024)
        push_image(a, "bench/many", "t0", image=base)
        for i in range(1, CATCH_UP):
            img = make_image(n_layers=0)
            img.layers = base.layers
            from berthtest import image_manifest, digest
            img.manifest = image_manifest(img.config, img.layers)
            img.digest = digest(img.manifest)
            push_image(a, "bench/many", "t%d" % i, image=img)
        start = time.monotonic()
        r.restore("a", "b")
        while len(tags(b, "bench/many")) < CATCH_UP:
            time.sleep(0.05)
        catch_up = time.monotonic() - start
        return small, big, catch_up
    finally:
        r.stop()


def main():
    print("replication benchmark: %d small manifests, %d MiB image, %d tags to catch up%s"
          % (SMALL, BIG_MB, CATCH_UP, " (quick)" if QUICK else ""))
    print("%-14s %10s %10s %12s %12s %14s" % ("link", "small p50", "small p99", "big (max)", "big MB/s", "catch-up tag/s"))
    for delay in (0.0, DELAY):
        small, big, catch_up = run(delay)
        print("%-14s %9.0fms %9.0fms %11.2fs %12.0f %14.0f" % (
            "loopback" if delay == 0 else "+%dms each way" % round(delay * 1000),
            statistics.median(small) * 1000, pct(small, 99) * 1000, max(big),
            BIG_MB / statistics.median(big), CATCH_UP / catch_up))


if __name__ == "__main__":
    main()
