#include "admin/cmd_server_client.h"

#include "core/api_types.h"
#include "core/http_client.h"

namespace noreboot::admin {

Result<nlohmann::json> server_call(const ServerTarget& t, const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& content_type) {
  if (t.url.empty())
    return Error(Errc::invalid_argument, "no server: give --server URL or set NOREBOOT_SERVER");
  if (t.token.empty())
    return Error(Errc::invalid_argument,
                 "no admin token: give --token-file FILE (e.g. DATA/admin.token) or set NOREBOOT_ADMIN_TOKEN");
  std::string base = t.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Client client(http::ClientOptions{.base = base, .ca_file = t.cacert, .user_agent = "noreboot-admin/0.1.0",
                                          .connect_timeout_seconds = 10});
  http::Request req{.method = method, .path = path, .content_type = content_type, .bearer = t.token};
  if (method != "GET") req.body = body;
  NR_TRY(auto reply, client.send(req));
  if (reply.status >= 400) {
    Errc code = reply.status == 422 ? Errc::refused
                : reply.status == 404 ? Errc::not_found
                : reply.status == 400 ? Errc::invalid_argument
                : reply.status == 409 ? Errc::conflict
                : reply.status >= 500 ? Errc::unavailable
                                      : Errc::conflict;
    auto e = api::parse_api_error(reply.body);
    return Error(code, "server answered " + std::to_string(reply.status) + " to " + method + " " + path + ": " +
                           (e ? e->code + ": " + e->message : reply.body.substr(0, 300)));
  }
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) return Error(Errc::invalid_input, "server reply to " + path + " is not JSON");
  return j;
}

}  // namespace noreboot::admin
