// The HTTP side of noreboot-admin's server commands: one request, JSON in and out, over
// core's HTTP client (TLS verified against the system CAs or --cacert). Server errors
// ({"error": {"code", "message"}}) become Errors carrying the server's message.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace noreboot::admin {

struct ServerTarget {
  std::string url;     // "https://patches.example:8443"
  std::string token;   // admin token "nra_..."
  std::string cacert;  // optional PEM file for a private CA / self-signed server
};

// method + path ("/v1/fleet"); body is sent as is with the given content type.
Result<nlohmann::json> server_call(const ServerTarget& target, const std::string& method, const std::string& path,
                                   const std::string& body = "",
                                   const std::string& content_type = "application/json");

}  // namespace noreboot::admin
