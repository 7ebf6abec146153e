// A tiny blocking HTTP client for the server's tests (core's http::Client with the tests' defaults).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace noreboot::http {
class Client;
}

namespace noreboot::server::testing {

struct Reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string error;                           // why no reply arrived, "" when one did
};

// One connection reused across requests (keep-alive), like an agent.
class Client {
 public:
  explicit Client(std::string base_url);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Reply request(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& token = "",
                const std::vector<std::string>& extra_headers = {}, long timeout_seconds = 30);

 private:
  std::unique_ptr<http::Client> client_;
};

}  // namespace noreboot::server::testing
