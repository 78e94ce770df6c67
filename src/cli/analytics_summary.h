// `mgw analytics summary <dir>`: the operator's quick look at analytics event files.
#pragma once

#include <string>

#include "base/result.h"

namespace mgw::cli {

// Reads every event file in `dir` (closed *.jsonl and the open file) and renders per
// API/resource counts, error rates and latency percentiles, event types and top applications,
// as text or (json = true) one JSON object. Lines that are not events are counted and skipped.
base::Result<std::string> SummariseAnalytics(const std::string& dir, bool json, int top);

}  // namespace mgw::cli
