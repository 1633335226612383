// A small parser of the Prometheus text exposition for the tests: every
// sample line as (name, labels, value); comments skipped. Enough for what
// prometheus-cpp writes (no escaped quotes in our label values).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace grid::testing {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class MetricsText {
 public:
  explicit MetricsText(const std::string& text) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty() || line[0] == '#') continue;
      MetricSample s;
      size_t i = line.find_first_of("{ ");
      s.name = line.substr(0, i);
      if (i != std::string::npos && line[i] == '{') {
        const size_t close = line.find('}', i);
        std::string labels = line.substr(i + 1, close - i - 1);
        size_t p = 0;
        while (p < labels.size()) {
          const size_t eq = labels.find('=', p);
          const size_t q1 = labels.find('"', eq);
          const size_t q2 = labels.find('"', q1 + 1);
          s.labels[labels.substr(p, eq - p)] = labels.substr(q1 + 1, q2 - q1 - 1);
          p = q2 + 1;
          if (p < labels.size() && labels[p] == ',') ++p;
        }
        i = close + 1;
      }
      s.value = std::stod(line.substr(line.find_first_not_of(' ', i)));
      samples_.push_back(std::move(s));
    }
  }

  // The samples named `name` whose labels include `labels`.
  std::vector<MetricSample> Find(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    std::vector<MetricSample> out;
    for (const auto& s : samples_) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        match = match && it != s.labels.end() && it->second == v;
      }
      if (match) out.push_back(s);
    }
    return out;
  }
  // Their sum (0 when there are none).
  double Sum(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    double sum = 0;
    for (const auto& s : Find(name, labels)) sum += s.value;
    return sum;
  }
  bool Has(const std::string& name) const { return !Find(name).empty(); }
  size_t size() const { return samples_.size(); }

 private:
  std::vector<MetricSample> samples_;
};

}  // namespace grid::testing
