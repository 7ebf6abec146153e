// A tiny blocking HTTP client over libcurl for the server's tests and the load tools.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace noreboot::server::testing {

struct Reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string error;                           // curl error, "" when a reply arrived
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
  std::string base_;
  void* curl_;
};

}  // namespace noreboot::server::testing
