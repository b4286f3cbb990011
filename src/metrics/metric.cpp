#include "metrics/metric.h"

#include <algorithm>

namespace berth::metrics {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double v) {
  // First bound >= v: "le" is inclusive. NaN lands in +Inf.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

void renderHistogram(TextWriter& out, const std::string& name, std::span<const Label> labels, const Histogram& h) {
  const auto snap = h.snapshot();
  const std::string bucket = name + "_bucket";
  for (size_t i = 0; i < snap.cumulative.size(); ++i) {
    const std::string le = i < h.bounds().size() ? formatDouble(h.bounds()[i]) : "+Inf";
    const Label extra{"le", le};
    out.sample(bucket, labels, snap.cumulative[i], &extra);
  }
  out.sample(name + "_sum", labels, snap.sum);
  out.sample(name + "_count", labels, snap.cumulative.back());
}

namespace {

bool touched(const Counter& c) { return c.value() != 0; }
bool touched(const Gauge&) { return true; }
bool touched(const Histogram& h) { return h.snapshot().cumulative.back() != 0; }

constexpr std::string_view typeName(const Counter*) { return "counter"; }
constexpr std::string_view typeName(const Gauge*) { return "gauge"; }
constexpr std::string_view typeName(const Histogram*) { return "histogram"; }

void renderSeries(TextWriter& out, const std::string& name, std::span<const Label> labels, const Counter& c) {
  out.sample(name, labels, c.value());
}
void renderSeries(TextWriter& out, const std::string& name, std::span<const Label> labels, const Gauge& g) {
  out.sample(name, labels, g.value());
}
void renderSeries(TextWriter& out, const std::string& name, std::span<const Label> labels, const Histogram& h) {
  renderHistogram(out, name, labels, h);
}

}  // namespace

template <class M>
void Labelled<M>::render(TextWriter& out) const {
  out.family(name_, help_, typeName(static_cast<const M*>(nullptr)));
  std::vector<Label> labels(dims_.size());
  std::vector<size_t> index(dims_.size(), 0);
  for (const M& series : series_) {  // row-major: the last dimension varies fastest
    if (dims_.empty() || touched(series)) {
      for (size_t d = 0; d < dims_.size(); ++d) labels[d] = {dims_[d].name, dims_[d].values[index[d]]};
      renderSeries(out, name_, labels, series);
    }
    for (size_t d = dims_.size(); d-- > 0;) {
      if (++index[d] < dims_[d].values.size()) break;
      index[d] = 0;
    }
  }
}

template class Labelled<Counter>;
template class Labelled<Gauge>;
template class Labelled<Histogram>;

}  // namespace berth::metrics
