// Diagnostics: the problems found in a user's project, each with its place, collected so that
// every problem is reported at once (not just the first). Not thread-safe; one per validation.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mgw::base {

// A place in a project file. `line` and `column` are 1-based; 0 means "not known" and is not
// printed. `file` is relative to the project root when the file is inside the project.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation location;
  std::string message;
};

// Formats one diagnostic as `file:line:col: error: message` (the contract's form).
std::string FormatDiagnostic(const Diagnostic& diagnostic);

class Diagnostics {
 public:
  void Error(SourceLocation location, std::string message);
  void Warning(SourceLocation location, std::string message);
  void Add(Diagnostic diagnostic);
  void Append(const Diagnostics& other);

  bool HasErrors() const { return error_count_ > 0; }
  std::size_t ErrorCount() const { return error_count_; }
  std::size_t WarningCount() const { return all_.size() - error_count_; }
  const std::vector<Diagnostic>& All() const { return all_; }

  // Orders by file, line, column, then insertion order, so output is stable across runs.
  void Sort();

 private:
  std::vector<Diagnostic> all_;
  std::size_t error_count_ = 0;
};

// "did you mean" support: the candidate closest to `word` by edit distance, or "" when none is
// close enough to be a plausible typo.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mgw::base
