#pragma once
// The metric families of a process and their text rendering. Families are added at
// start-up, before anything records or scrapes (adding is not synchronized); after that
// recording and render() are safe from any thread.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/metric.h"

namespace berth::metrics {

class Registry {
 public:
  CounterFamily& counter(std::string name, std::string help, std::vector<Dimension> dims = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<Dimension> dims = {});
  // `bounds`: ascending upper bounds; copied, shared by the family's series.
  HistogramFamily& histogram(std::string name, std::string help, std::vector<Dimension> dims,
                             std::vector<double> bounds);

  // Read at scrape time, from the scraping thread. A nullopt leaves the sample out.
  void counterFunction(std::string name, std::string help, std::function<uint64_t()> read);
  void gaugeFunction(std::string name, std::string help, std::function<std::optional<double>()> read);
  // A gauge of value 1 with constant labels (build information).
  void info(std::string name, std::string help, std::vector<std::pair<std::string, std::string>> labels);

  // Every family in the order added, in the text exposition format 0.0.4.
  std::string render() const;

 private:
  template <class F>
  F& add(std::unique_ptr<F> family);

  std::vector<std::unique_ptr<Family>> families_;
  std::vector<std::unique_ptr<std::vector<double>>> bounds_;  // referenced by histograms
};

}  // namespace berth::metrics
