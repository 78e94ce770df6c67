// Reads one OpenAPI 2.0 / 3.0 / 3.1 definition (with its x-wso2-* / x-mgw-* extensions) into the
// bundle model, reporting every problem with its file, line and column.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "bundle/model.h"
#include "project/documents.h"

namespace mgw::project {

struct TierReference {
  std::string tier;
  std::string level;  // "API" | "resource"
  base::SourceLocation location;
};

struct EndpointGroupDraft {
  bundle::EndpointGroup group;
  base::SourceLocation location;
};

// One API as read from its definition, with what the project-level checks need.
struct ApiDraft {
  bundle::Api api;
  std::vector<EndpointGroupDraft> endpoint_groups;  // every group a resource refers to
  std::vector<TierReference> tiers;
  base::SourceLocation location;            // the definition's root
  base::SourceLocation base_path_location;  // where the base path came from
  bool uses_basic = false;
  bool uses_api_key = false;
  bool uses_oauth2 = false;
};

// True when the document looks like an API definition (has `openapi` or `swagger` at its root).
bool IsApiDefinition(const Document& document);

// Reads `document` (a file under api_definitions/, `source` being its path relative to that
// folder). Problems go to `diagnostics`; the result is std::nullopt only when the definition is
// too broken to describe an API.
std::optional<ApiDraft> ReadApi(const Document& document, const std::string& source,
                                DocumentSet& documents, base::Diagnostics& diagnostics);

// Checks an OpenAPI path template ("/pets/{petId}", "/files/{name}.{ext}"); returns a message
// describing the first problem, or std::nullopt when it is well-formed.
std::optional<std::string> CheckPathTemplate(const std::string& path);

// Checks an endpoint URL (absolute http or https with a host); returns a message or nullopt.
std::optional<std::string> CheckEndpointUrl(const std::string& url);

}  // namespace mgw::project
