// Route labels for /metrics: the route templates this server knows, and "other".
//
// A metrics label that comes from the request path would let any client add a permanent
// time series (300 token-less requests to made-up paths grew /metrics by 70 KB). So the
// label is a template from a fixed table ("/v1/bundles/{sha256}", "/hosts/{id}", ...) and
// every path that matches none of them is counted as "other": the label set is bounded by
// the table, whatever clients send.
//
// The table lists the API (docs/api.md), the operations endpoints and the dashboard's pages,
// including the fix pages (/fixes, /fixes/{id}, /fixes/{id}/rollouts/{id}/halt|resume|promote).
// A placeholder ({id}, {sha256}, {group}) matches any one non-empty segment; a segment
// written "a|b|c" matches one of those words and is kept as sent (a bounded set).
#pragma once

#include <string>
#include <vector>

namespace noreboot::server {

// The label for a path split into segments ("/v1/hosts/h_1" -> {"v1", "hosts", "h_1"}).
std::string route_label(const std::vector<std::string>& segments);

// Every template of the table (for tests and docs).
const std::vector<std::string>& known_route_templates();

}  // namespace noreboot::server
