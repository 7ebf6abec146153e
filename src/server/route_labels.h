// Route labels for /metrics: the route templates this server knows, and "other".
//
// A metrics label that comes from the request path would let any client add a permanent
// time series (300 token-less requests to made-up paths grew /metrics by 70 KB). So the
// label is a template from a fixed table ("/v1/bundles/{sha256}", "/hosts/{id}", ...) and
// every path that matches none of them is counted as "other": the label set is bounded by
// the table, whatever clients send.
//
// The templates are not a list of their own: they are the patterns of the API's route table
// (api_routes.cc: the operations endpoints, the agents' and the admin API, docs/api.md) and
// of the dashboard's (dashboard.cc: its pages and its rollout actions). A placeholder ({id},
// {sha256}, {group}) matches any one non-empty segment (route_table.h).
#pragma once

#include <string>
#include <vector>

namespace noreboot::server {

// The label for a path split into segments ("/v1/hosts/h_1" -> {"v1", "hosts", "h_1"}).
std::string route_label(const std::vector<std::string>& segments);

// Every template of the table (for tests and docs).
const std::vector<std::string>& known_route_templates();

// The patterns of the two route tables, in table order (api_routes.cc, dashboard.cc).
std::vector<std::string> api_route_patterns();
std::vector<std::string> dashboard_route_patterns();

}  // namespace noreboot::server
