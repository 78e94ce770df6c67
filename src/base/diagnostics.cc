#include "base/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace mgw::base {

std::string FormatDiagnostic(const Diagnostic& diagnostic) {
  std::string out = diagnostic.location.file;
  if (diagnostic.location.line > 0) {
    out += ':' + std::to_string(diagnostic.location.line);
    if (diagnostic.location.column > 0) {
      out += ':' + std::to_string(diagnostic.location.column);
    }
  }
  if (!out.empty()) {
    out += ": ";
  }
  out += diagnostic.severity == Severity::kError ? "error: " : "warning: ";
  out += diagnostic.message;
  return out;
}

void Diagnostics::Error(SourceLocation location, std::string message) {
  Add({Severity::kError, std::move(location), std::move(message)});
}

void Diagnostics::Warning(SourceLocation location, std::string message) {
  Add({Severity::kWarning, std::move(location), std::move(message)});
}

void Diagnostics::Add(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::kError) {
    ++error_count_;
  }
  all_.push_back(std::move(diagnostic));
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const auto& d : other.all_) {
    Add(d);
  }
}

void Diagnostics::Sort() {
  std::stable_sort(all_.begin(), all_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
}

namespace {

std::size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const std::size_t d = EditDistance(word, candidate);
    if (best.empty() || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // A typo changes a few characters; beyond a third of the word it is a different word.
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace mgw::base
