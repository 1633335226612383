#include "tools/crashtest/ack_log.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

namespace grid::crashtest {

AckLog::AckLog(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {}

AckLog::~AckLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void AckLog::Write(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += '\t';
    line += fields[i];
  }
  line += '\n';
  if (file_ == nullptr) return;
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

template <typename T>
bool Number(std::string_view s, T* out) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool ParseLine(std::string_view line, LogContents* out) {
  const auto f = Split(line, '\t');
  if (f.empty() || f[0].size() != 1) return false;
  switch (f[0][0]) {
    case 'P': return f.size() == 3 && Number(f[1], &out->accept_s) && Number(f[2], &out->resolve_s);
    case 'O': {
      double hours = 0;
      if (f.size() != 2 || !Number(f[1], &hours)) return false;
      out->offsets.push_back(hours);
      return true;
    }
    case 'S': {
      SubmitAck a;
      if (f.size() != 4 || !Number(f[3], &a.version)) return false;
      a.key = f[1];
      a.case_id = f[2];
      out->submits.push_back(std::move(a));
      return true;
    }
    case 'W': {
      WorkAck a;
      if (f.size() != 7 || !Number(f[3], &a.expected) || !Number(f[4], &a.version)) return false;
      a.case_id = f[1];
      a.op = f[2];
      a.note = f[5];
      for (std::string_view e : Split(f[6], ',')) {
        const auto st = Split(e, ':');
        std::pair<uint64_t, int> ev;
        if (st.size() != 2 || !Number(st[0], &ev.first) || !Number(st[1], &ev.second)) return false;
        a.events.push_back(ev);
      }
      out->works.push_back(std::move(a));
      return true;
    }
    case 'F': {
      FeedSeen s;
      if (f.size() != 6 || !Number(f[2], &s.cursor) || !Number(f[4], &s.seq) || !Number(f[5], &s.type)) return false;
      s.case_id = f[3];
      out->subscribers[std::string(f[1])].seen.push_back(std::move(s));
      return true;
    }
    case 'C': {
      uint64_t cursor = 0;
      if (f.size() != 3 || !Number(f[2], &cursor)) return false;
      auto& sub = out->subscribers[std::string(f[1])];
      sub.confirmed = std::max(sub.confirmed, cursor);
      return true;
    }
    default: return false;
  }
}

}  // namespace

bool ReadLog(const std::string& path, LogContents* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (!ParseLine(line, out)) {
      *error = path + " line " + std::to_string(n) + ": cannot parse '" + line + "'";
      return false;
    }
  }
  return true;
}

}  // namespace grid::crashtest
