// Fetches an API definition over HTTP(S) for `mgw init -a URL` / `mgw import -a URL`.
#pragma once

#include <string>

#include "base/result.h"

namespace mgw::project {

struct DownloadLimits {
  long connect_timeout_s = 10;  // NOLINT(google-runtime-int): libcurl's type
  long total_timeout_s = 60;    // NOLINT(google-runtime-int)
  std::size_t max_bytes = 64u << 20;
  int max_redirects = 5;
};

// GETs `url` (http or https; certificates verified), following redirects. Fails on a non-2xx
// status, a timeout, or a body larger than the limit.
base::Result<std::string> Download(const std::string& url, const DownloadLimits& limits = {});

// True for http:// and https:// URLs (as opposed to file paths).
bool IsUrl(const std::string& text);

}  // namespace mgw::project
