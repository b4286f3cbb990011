#pragma once
// Counters, gauges and histograms, alone or in families with a fixed label set. Every
// series of a family is allocated when the family is created, so recording is a few
// relaxed atomic operations: no lock, no allocation. Reading (render) may run at any
// time; a scrape sees each series' own values, not one consistent cut across series.
#include <atomic>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metrics/text_format.h"

namespace berth::metrics {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Upper bounds are inclusive ("le") and ascending; the +Inf bucket is implicit.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;  // owned by the family (or the caller), outlives this
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last: +Inf
  std::atomic<double> sum_{0};
};

// One label of a family and every value it may take.
struct Dimension {
  std::string name;
  std::vector<std::string> values;
};

// Something the registry renders: one metric family.
class Family {
 public:
  Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  virtual ~Family() = default;
  virtual void render(TextWriter& out) const = 0;
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
  std::string help_;
};

// The series of a family, one per combination of dimension values, preallocated. A
// labelled counter or histogram series that was never touched is not rendered (as if
// created on first use); gauges always are.
template <class M>
class Labelled : public Family {
 public:
  template <class... Args>
  Labelled(std::string name, std::string help, std::vector<Dimension> dims, const Args&... args)
      : Family(std::move(name), std::move(help)), dims_(std::move(dims)) {
    size_t n = 1;
    for (const auto& d : dims_) n *= d.values.size();
    for (size_t i = 0; i < n; ++i) series_.emplace_back(args...);
  }
  // The series at one value index per dimension (each in range: a programming error else).
  M& at(std::initializer_list<size_t> index) { return series_[flatIndex(index)]; }
  const M& at(std::initializer_list<size_t> index) const { return series_[flatIndex(index)]; }

  void render(TextWriter& out) const override;

 private:
  size_t flatIndex(std::initializer_list<size_t> index) const {
    size_t flat = 0;
    auto d = dims_.begin();
    for (size_t i : index) flat = flat * (d++)->values.size() + i;
    return flat;
  }
  std::vector<Dimension> dims_;
  std::deque<M> series_;
};

using CounterFamily = Labelled<Counter>;
using GaugeFamily = Labelled<Gauge>;
using HistogramFamily = Labelled<Histogram>;

// Writes one histogram series: _bucket{le} (cumulative, ending with +Inf), _sum, _count.
void renderHistogram(TextWriter& out, const std::string& name, std::span<const Label> labels, const Histogram& h);

}  // namespace berth::metrics
