#pragma once
// A hybrid logical clock (docs/replication.md): readings are wall-clock milliseconds
// shifted left 16 bits plus a counter, strictly increasing on one node, and above every
// reading seen from a peer, so a write made after another was seen sorts after it even
// when the clocks disagree a little. Thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace berth::replication {

class HybridClock {
 public:
  static constexpr int kCounterBits = 16;

  // A new reading, above every earlier one and every observed one.
  int64_t now() {
    const int64_t wall = wallMs() << kCounterBits;
    int64_t last = last_.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t next = wall > last ? wall : last + 1;
      if (last_.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
    }
  }
  // A reading from a peer: later readings here sort after it.
  void observe(int64_t reading) {
    int64_t last = last_.load(std::memory_order_relaxed);
    while (reading > last && !last_.compare_exchange_weak(last, reading, std::memory_order_relaxed)) {
    }
  }
  // The wall-clock milliseconds of a reading.
  static int64_t millis(int64_t reading) { return reading >> kCounterBits; }
  static int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  std::atomic<int64_t> last_{0};
};

}  // namespace berth::replication
