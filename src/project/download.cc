#include "project/download.h"

#include <memory>

#include <curl/curl.h>

namespace mgw::project {
namespace {

struct Sink {
  std::string body;
  std::size_t limit = 0;
  bool too_large = false;
};

std::size_t OnData(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * count;
  if (sink->body.size() + bytes > sink->limit) {
    sink->too_large = true;
    return 0;  // makes libcurl abort the transfer
  }
  sink->body.append(data, bytes);
  return bytes;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

}  // namespace

bool IsUrl(const std::string& text) {
  return text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0;
}

base::Result<std::string> Download(const std::string& url, const DownloadLimits& limits) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) {
    return base::MakeError("cannot initialise libcurl");
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    return base::MakeError("cannot initialise libcurl");
  }
  Sink sink;
  sink.limit = limits.max_bytes;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, static_cast<long>(limits.max_redirects));  // NOLINT(google-runtime-int)
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, limits.connect_timeout_s);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, limits.total_timeout_s);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "mgw");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl.get());
  if (sink.too_large) {
    return base::MakeError("download of " + url + " exceeds " +
                           std::to_string(limits.max_bytes >> 20) + " MiB");
  }
  if (code != CURLE_OK) {
    return base::MakeError("cannot download " + url + ": " +
                           (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code)));
  }
  long status = 0;  // NOLINT(google-runtime-int): libcurl's type
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    return base::MakeError("cannot download " + url + ": HTTP status " + std::to_string(status));
  }
  return std::move(sink.body);
}

}  // namespace mgw::project
