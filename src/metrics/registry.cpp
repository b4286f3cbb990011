#include "metrics/registry.h"

namespace berth::metrics {

namespace {

class CounterFunction : public Family {
 public:
  CounterFunction(std::string name, std::string help, std::function<uint64_t()> read)
      : Family(std::move(name), std::move(help)), read_(std::move(read)) {}
  void render(TextWriter& out) const override {
    out.family(name_, help_, "counter");
    out.sample(name_, {}, read_());
  }

 private:
  std::function<uint64_t()> read_;
};

class GaugeFunction : public Family {
 public:
  GaugeFunction(std::string name, std::string help, std::function<std::optional<double>()> read)
      : Family(std::move(name), std::move(help)), read_(std::move(read)) {}
  void render(TextWriter& out) const override {
    out.family(name_, help_, "gauge");
    if (auto v = read_()) out.sample(name_, {}, *v);
  }

 private:
  std::function<std::optional<double>()> read_;
};

class Info : public Family {
 public:
  Info(std::string name, std::string help, std::vector<std::pair<std::string, std::string>> labels)
      : Family(std::move(name), std::move(help)), labels_(std::move(labels)) {}
  void render(TextWriter& out) const override {
    out.family(name_, help_, "gauge");
    std::vector<Label> labels;
    for (const auto& [k, v] : labels_) labels.emplace_back(k, v);
    out.sample(name_, labels, int64_t{1});
  }

 private:
  std::vector<std::pair<std::string, std::string>> labels_;
};

}  // namespace

template <class F>
F& Registry::add(std::unique_ptr<F> family) {
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<Dimension> dims) {
  return add(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(dims)));
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<Dimension> dims) {
  return add(std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(dims)));
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<Dimension> dims,
                                     std::vector<double> bounds) {
  bounds_.push_back(std::make_unique<std::vector<double>>(std::move(bounds)));
  std::span<const double> b(*bounds_.back());
  return add(std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(dims), b));
}

void Registry::counterFunction(std::string name, std::string help, std::function<uint64_t()> read) {
  add(std::make_unique<CounterFunction>(std::move(name), std::move(help), std::move(read)));
}

void Registry::gaugeFunction(std::string name, std::string help, std::function<std::optional<double>()> read) {
  add(std::make_unique<GaugeFunction>(std::move(name), std::move(help), std::move(read)));
}

void Registry::info(std::string name, std::string help, std::vector<std::pair<std::string, std::string>> labels) {
  add(std::make_unique<Info>(std::move(name), std::move(help), std::move(labels)));
}

std::string Registry::render() const {
  std::string out;
  out.reserve(16 * 1024);
  TextWriter writer(out);
  for (const auto& f : families_) f->render(writer);
  return out;
}

}  // namespace berth::metrics
