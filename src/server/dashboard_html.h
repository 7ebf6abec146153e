// Pieces shared by the dashboard's pages (dashboard.cc, dashboard_fixes.cc): the page frame,
// the HTML response with its security headers, and the action forms. Not a public interface.
#pragma once

#include <string>

#include "server/dashboard_session.h"
#include "server/http_types.h"
#include "server/store.h"

namespace noreboot::server {

// A dashboard request from a logged-in browser: its session, the token behind it (re-read
// from the store for this request), and whether that token may act (admin role).
struct DashboardView {
  DashboardSession session;
  TokenRecord token;
  bool can_act() const { return token.role == "admin"; }
};

// The frame of every page: title, navigation, the logout form. `refresh`: reload every 10 s.
std::string dashboard_page(const std::string& title, const std::string& body, bool refresh, const DashboardView* view);
// An HTML response with the dashboard's headers (CSP: no script at all, forms to this origin).
HttpResponse dashboard_html(int status, std::string body);
// The buttons that act on a rollout in `state` ("running", "halted", "completed"): an empty
// string for a read-role view. `back` says where to return after the action ("fleet" or "fix").
std::string rollout_action_forms(const DashboardView& view, const std::string& rollout_id, const std::string& state,
                                 const std::string& back);

}  // namespace noreboot::server
