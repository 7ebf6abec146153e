// Admin endpoints of the API: publish, rollouts, pins, hosts, fleet, audit, tokens.
// Every change is written to the audit log with the acting token's id and name.
#include <algorithm>

#include "core/log.h"
#include "server/api_impl.h"

namespace noreboot::server {
namespace {

bool id_ok(const std::string& s, std::string_view prefix, std::size_t hex_len) {
  if (s.size() != prefix.size() + hex_len || s.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(s.begin() + static_cast<long>(prefix.size()), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<json> parse_json_object(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Error(Errc::invalid_input, "body: not valid JSON");
  if (!j.is_object()) return Error(Errc::invalid_input, "body: must be a JSON object");
  return j;
}

HttpResponse bad(const std::string& msg) { return error_response({400, "invalid_input", msg}); }
HttpResponse not_found(const std::string& msg) { return error_response({404, "not_found", msg}); }
HttpResponse method(const std::string& allowed) {
  return error_response({405, "method_not_allowed", "allowed here: " + allowed});
}
HttpResponse from(const Error& e) { return error_response(fail_from(e)); }

constexpr std::int64_t kDefaultEnrollmentUses = 100;

}  // namespace

void Api::Impl::audit(const TokenRecord& actor, const std::string& action, const json& detail) {
  auto st = store.add_audit({now(), actor.id + " (" + actor.name + ")", action,
                             detail.dump(-1, ' ', false, json::error_handler_t::replace)});
  if (!st) log::error("audit log write failed for {}: {}", action, st.error().message());
}

Result<json> Api::Impl::rollout_to_json(const RolloutRecord& r) {
  json stages = json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"percent", s.percent}, {"soak_seconds", s.soak_seconds}, {"failure_budget", s.failure_budget}});
  NR_TRY(auto counts, rollout_counts(r));
  std::int64_t targeted = 0, in_stage = 0;
  std::optional<BundleRecord> b;  // a bundle rollout's bundle
  json kernels = json::array();   // a fix rollout's: one per bundle
  for (const auto& sha : r.all_bundles()) {
    NR_TRY(auto got, store.get_bundle(sha));
    if (!got) continue;
    if (r.fix_id.empty()) b = got;
    HostFilter f;
    f.build_id = got->kernel_build_id;
    f.limit = 1000000;
    NR_TRY(auto hosts, store.list_hosts(f));
    int stage = std::clamp(r.current_stage, 0, static_cast<int>(r.stages.size()) - 1);
    double percent = r.state == RolloutState::completed ? r.stages.back().percent : r.stages[stage].percent;
    std::int64_t here = 0;
    for (const auto& h : hosts) {
      if (!rollout_targets(r, h)) continue;
      ++targeted;
      ++here;
      if (placement_bucket(r.id, h.id) < percent) ++in_stage;
    }
    if (!r.fix_id.empty())
      kernels.push_back({{"release", got->kernel_release}, {"build_id", got->kernel_build_id}, {"bundle_sha256", sha},
                         {"patch_name", got->patch_name}, {"sequence", got->sequence}, {"targeted", here}});
  }
  json out = json{{"id", r.id}, {"bundle_sha256", r.bundle_sha256},
              {"patch_name", b ? b->patch_name : ""}, {"sequence", b ? b->sequence : 0},
              {"kernel_build_id", b ? b->kernel_build_id : ""}, {"groups", r.groups}, {"tags", r.tags},
              {"stages", stages}, {"window", r.window ? json(api::format_window(*r.window)) : json(nullptr)},
              {"state", rollout_state_name(r.state)}, {"current_stage", r.current_stage},
              {"stage_started_at", r.stage_started_at}, {"created_at", r.created_at},
              {"halt_reason", r.halt_reason}, {"failure_baseline", r.failure_baseline},
              {"counts", {{"targeted", targeted}, {"in_stage", in_stage}, {"offered", counts.offered},
                          {"applied", counts.applied}, {"failed", counts.failed}}}};
  if (!r.fix_id.empty()) {
    out["fix"] = r.fix_id;
    out["kernels"] = kernels;
  }
  return out;
}

Result<json> Api::Impl::fleet_json() {
  NR_TRY(auto total, store.count_hosts({}));
  NR_TRY(auto states, store.hosts_by_state());
  NR_TRY(auto kernels, store.hosts_by_kernel());
  NR_TRY(auto applied, store.hosts_by_applied_bundle());
  NR_TRY(auto bundles, store.list_bundles());
  NR_TRY(auto rollouts, store.list_rollouts());
  NR_TRY(auto groups, fix_groups(""));
  json by_state = json::object();
  for (const auto& c : states) by_state[c.key] = c.n;
  json by_kernel = json::array();
  json exposed = json::array();
  for (const auto& c : kernels) {
    by_kernel.push_back({{"release", c.key}, {"build_id", c.key2}, {"hosts", c.n}});
    std::int64_t latest = 0;
    for (const auto& b : bundles)
      if (b.kernel_build_id == c.key2 && !b.blocked) latest = std::max(latest, b.sequence);
    // Exposure per fix on this kernel, counted from the same classification as GET /v1/fixes:
    // a host group counts once in hosts_exposed however many fixes it lacks.
    std::int64_t hosts_exposed = 0;
    json per_fix = json::array();
    for (std::size_t i = 0; i < groups.hosts.size(); ++i) {
      const HostKernelCount& h = groups.hosts[i];
      if (h.release != c.key || h.build_id != c.key2) continue;
      bool any = std::any_of(groups.fixes.begin(), groups.fixes.end(),
                             [&](const FixClassification& f) { return f.group[i] == FixGroup::exposed; });
      if (any) hosts_exposed += h.n;
    }
    for (const auto& f : groups.fixes) {
      std::int64_t n = 0;
      for (std::size_t i = 0; i < groups.hosts.size(); ++i)
        if (f.group[i] == FixGroup::exposed && groups.hosts[i].release == c.key && groups.hosts[i].build_id == c.key2)
          n += groups.hosts[i].n;
      if (n > 0) per_fix.push_back({{"id", f.fix.id}, {"hosts", n}});
    }
    if (latest > 0 || hosts_exposed > 0) {
      std::int64_t behind = 0;
      if (latest > 0) {
        NR_TRY(behind, store.hosts_behind(c.key2, latest));
      }
      exposed.push_back({{"release", c.key}, {"build_id", c.key2}, {"latest_sequence", latest},
                         {"hosts_behind", behind}, {"hosts_exposed", hosts_exposed}, {"fixes", per_fix}});
    }
  }
  json fixes = json::array();
  for (const auto& c : applied) {
    auto it = std::find_if(bundles.begin(), bundles.end(), [&](const BundleRecord& b) { return b.sha256 == c.key; });
    fixes.push_back({{"sha256", c.key}, {"patch_name", it != bundles.end() ? it->patch_name : ""},
                     {"sequence", it != bundles.end() ? it->sequence : 0}, {"hosts", c.n}});
  }
  json rs = {{"running", 0}, {"halted", 0}, {"completed", 0}, {"awaiting_approval", 0}};
  for (const auto& r : rollouts) rs[std::string(rollout_state_name(r.state))] = rs[std::string(rollout_state_name(r.state))].get<int>() + 1;
  return json{{"hosts", total}, {"by_state", by_state}, {"by_kernel", by_kernel}, {"fixes", fixes},
              {"exposed", exposed}, {"rollouts", rs}};
}

HttpResponse Api::Impl::admin(const HttpRequest& req, const std::vector<std::string>& seg, const TokenRecord& actor) {
  const std::string& m = req.method;
  bool get = m == "GET" || m == "HEAD";
  std::int64_t t = now();
  const std::string what = seg.size() > 1 ? seg[1] : "";

  // ---- bundles
  if (what == "bundles" && seg.size() == 2) {
    if (get) {
      NR_TRY_RESP(auto list, store.list_bundles());
      json a = json::array();
      for (const auto& b : list) a.push_back(bundle_to_json(b));
      return json_response(200, {{"bundles", a}});
    }
    if (m != "POST") return method("GET, POST");
    if (req.body.empty()) return bad("body: empty; send the .nrp file as application/octet-stream");
    auto info = verifier(req.body);
    if (!info) {
      audit(actor, "bundle.publish_refused", {{"reason", info.error().message()}});
      return error_response({422, "refused", "bundle refused: " + info.error().message()});
    }
    BundleRecord b;
    b.sha256 = sha256_hex(req.body);
    b.size = static_cast<std::int64_t>(req.body.size());
    b.patch_name = info->patch_name;
    b.sequence = info->sequence;
    b.kernel_release = info->kernel.release;
    b.kernel_build_id = info->kernel.build_id;
    b.arch = info->kernel.arch;
    b.created_at = t;
    b.fix_ids = info->fix_ids;
    NR_TRY_RESP(auto created, store.put_bundle(b, req.body));
    NR_TRY_RESP(auto stored, store.get_bundle(b.sha256));
    if (created) {
      metrics.published++;
      audit(actor, "bundle.publish", {{"sha256", b.sha256}, {"patch_name", b.patch_name}, {"sequence", b.sequence},
                                      {"kernel", b.kernel_release}, {"signer", info->signer_key_id}});
      log::info("published bundle {} ({} seq {}) for {}", b.sha256, b.patch_name, b.sequence, b.kernel_release);
      changed();
    }
    return json_response(created ? 201 : 200, bundle_to_json(stored ? *stored : b));
  }
  if (what == "bundles" && seg.size() == 3) return method("GET, HEAD");

  if (what == "fixes") return fixes(req, seg, actor);

  // ---- rollouts
  if (what == "rollouts" && seg.size() == 2) {
    if (get) {
      NR_TRY_RESP(auto list, store.list_rollouts());
      json a = json::array();
      for (const auto& r : list) {
        NR_TRY_RESP(auto j, rollout_to_json(r));
        a.push_back(j);
      }
      return json_response(200, {{"rollouts", a}});
    }
    if (m != "POST") return method("GET, POST");
    auto body = api::parse_rollout_create(req.body);
    if (!body) return from(body.error());
    for (const auto& g : body->groups) if (!api::is_name(g)) return bad("groups: '" + g.substr(0, 64) + "' is not a valid name");
    for (const auto& g : body->tags) if (!api::is_name(g)) return bad("tags: '" + g.substr(0, 64) + "' is not a valid name");
    RolloutRecord r;
    if (!body->fix.empty()) {
      // A fix rollout: the bundles its records name, one per kernel the fix was built for.
      NR_TRY_RESP(auto rows, store.fix_kernels(body->fix));
      if (rows.empty()) return not_found("no fix record names fix " + body->fix + " (noreboot-admin publish DIR)");
      for (const auto& k : rows) {
        if (k.bundle_sha256.empty()) continue;
        NR_TRY_RESP(auto b, store.get_bundle(k.bundle_sha256));
        if (!b) return not_found("fix " + body->fix + ": bundle " + k.bundle_sha256 + " is not published");
        if (b->blocked)
          return error_response({409, "conflict", "fix " + body->fix + ": bundle " + k.bundle_sha256 + " for " +
                                                      k.release + " is blocked: " + b->blocked_reason});
        r.bundles.push_back(k.bundle_sha256);
      }
      if (r.bundles.empty())
        return error_response({409, "conflict", "fix " + body->fix + " has no bundle for any kernel (its records name "
                                                 "only kernels it was not built for)"});
      r.fix_id = body->fix;
    } else {
      NR_TRY_RESP(auto b, store.get_bundle(body->bundle_sha256));
      if (!b) return not_found("bundle " + body->bundle_sha256 + " is not published (noreboot-admin publish FILE.nrp)");
      if (b->blocked) return error_response({409, "conflict", "bundle is blocked: " + b->blocked_reason});
      r.bundle_sha256 = body->bundle_sha256;
    }
    r.id = "r_" + random_hex(8);
    r.groups = body->groups;
    r.tags = body->tags;
    r.stages = body->stages;
    r.window = body->window;
    r.created_at = r.stage_started_at = t;
    if (body->await_approval) r.state = RolloutState::awaiting_approval;  // api_approve.cc starts it
    NR_TRY_RESP_STATUS(store.create_rollout(r));
    json detail = json::parse(api::to_json(*body));
    detail["id"] = r.id;
    audit(actor, "rollout.create", detail);
    changed();
    NR_TRY_RESP(auto j, rollout_to_json(r));
    return json_response(201, j);
  }
  if (what == "rollouts" && (seg.size() == 3 || seg.size() == 4)) {
    if (!id_ok(seg[2], "r_", 16)) return bad("rollout id '" + seg[2].substr(0, 64) + "' must look like r_ + 16 hex");
    NR_TRY_RESP(auto r, store.get_rollout(seg[2]));
    if (!r) return not_found("no rollout " + seg[2]);
    if (seg.size() == 3) {
      if (!get) return method("GET");
      NR_TRY_RESP(auto j, rollout_to_json(*r));
      return json_response(200, j);
    }
    if (m != "POST") return method("POST");
    const std::string& action = seg[3];
    if (action == "approve") return approve_rollout_request(*r, actor);
    Result<RolloutRecord> next = Error(Errc::not_found, "unknown rollout action '" + action.substr(0, 32) +
                                                            "' (promote, halt, resume, approve)");
    std::string reason;
    if (!req.body.empty()) {
      auto j = parse_json_object(req.body);
      if (!j) return from(j.error());
      if (j->contains("reason")) {
        if (!(*j)["reason"].is_string()) return bad("reason: must be a string");
        reason = (*j)["reason"].get<std::string>().substr(0, 512);
      }
    }
    if (action == "promote") next = promote_rollout(*r, t);
    else if (action == "halt") next = halt_rollout(*r, reason);
    else if (action == "resume") {
      NR_TRY_RESP(auto counts, rollout_counts(*r));
      next = resume_rollout(*r, t, counts.failed);
    }
    if (!next) return from(next.error());
    // A halt blocks the rollout's bundles and a resume unblocks them in the same transaction
    // as the state change (a fix rollout: all of its bundles together).
    bool blocks = action == "halt" || action == "resume";
    NR_TRY_RESP(auto wrote, blocks ? store.update_rollout_and_block(*r, *next, r->all_bundles(), action == "halt")
                                   : store.update_rollout(*r, *next));
    if (!wrote) return error_response({409, "conflict", "rollout changed meanwhile; read its status and retry"});
    audit(actor, "rollout." + action, {{"id", r->id}, {"stage", next->current_stage}, {"reason", reason}});
    changed();
    NR_TRY_RESP(auto j, rollout_to_json(*next));
    return json_response(200, j);
  }

  // ---- pins
  if (what == "pins" && seg.size() == 2) {
    if (get) {
      NR_TRY_RESP(auto pins, store.list_pins());
      json a = json::array();
      for (const auto& p : pins) a.push_back({{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
      return json_response(200, {{"pins", a}});
    }
    if (m != "POST") return method("GET, POST");
    auto j = parse_json_object(req.body);
    if (!j) return from(j.error());
    PinRecord p;
    if (!j->contains("group") || !(*j)["group"].is_string() || !api::is_name((*j)["group"].get<std::string>()))
      return bad("group: required, 1-64 characters of A-Z a-z 0-9 . _ -");
    p.group = (*j)["group"].get<std::string>();
    if (j->contains("bundle_sha256") && !(*j)["bundle_sha256"].is_null()) {
      if (!(*j)["bundle_sha256"].is_string() || !api::is_sha256_hex((*j)["bundle_sha256"].get<std::string>()))
        return bad("bundle_sha256: must be 64 lowercase hex characters");
      p.bundle_sha256 = (*j)["bundle_sha256"].get<std::string>();
      NR_TRY_RESP(auto b, store.get_bundle(p.bundle_sha256));
      if (!b) return not_found("bundle " + p.bundle_sha256 + " is not published");
    }
    if (j->contains("until") && !(*j)["until"].is_null()) {
      if (!(*j)["until"].is_number_integer() || (*j)["until"].get<std::int64_t>() < 0)
        return bad("until: must be a Unix time in seconds");
      p.until = (*j)["until"].get<std::int64_t>();
    }
    if (p.bundle_sha256.empty() && p.until == 0) return bad("give bundle_sha256 or until (or both)");
    NR_TRY_RESP_STATUS(store.put_pin(p));
    audit(actor, "pin.set", {{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
    changed();
    return json_response(201, {{"group", p.group}, {"bundle_sha256", p.bundle_sha256}, {"until", p.until}});
  }
  if (what == "pins" && seg.size() == 3) {
    if (m != "DELETE") return method("DELETE");
    if (!api::is_name(seg[2])) return bad("group '" + seg[2].substr(0, 64) + "' is not a valid name");
    NR_TRY_RESP(auto gone, store.delete_pin(seg[2]));
    if (!gone) return not_found("no pin for group " + seg[2]);
    audit(actor, "pin.delete", {{"group", seg[2]}});
    changed();
    return json_response(200, {{"deleted", seg[2]}});
  }

  // ---- hosts, fleet, audit
  if (what == "hosts" && seg.size() == 2) {
    if (!get) return method("GET");
    HostFilter f;
    auto q = [&](const char* k) { auto it = req.query.find(k); return it == req.query.end() ? std::string() : it->second; };
    f.group = q("group");
    f.state = q("state");
    if (!f.group.empty() && !api::is_name(f.group)) return bad("group: not a valid name");
    if (!f.state.empty() && !api::parse_agent_state(f.state)) return bad("state: unknown state '" + f.state.substr(0, 32) + "'");
    auto num = [&](const char* k, std::int64_t def, std::int64_t max) -> std::optional<std::int64_t> {
      std::string v = q(k);
      if (v.empty()) return def;
      if (v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
      return std::min<std::int64_t>(std::stoll(v), max);
    };
    auto limit = num("limit", 100, 10000), offset = num("offset", 0, 1000000000);
    if (!limit || !offset) return bad("limit/offset: must be non-negative integers");
    f.limit = *limit;
    f.offset = *offset;
    NR_TRY_RESP(auto hosts, store.list_hosts(f));
    NR_TRY_RESP(auto total, store.count_hosts(f));
    json a = json::array();
    for (const auto& h : hosts) a.push_back(host_to_json(h));
    return json_response(200, {{"hosts", a}, {"total", total}});
  }
  if (what == "hosts" && seg.size() == 3) {
    if (!get && m != "DELETE") return method("GET, DELETE");
    if (!id_ok(seg[2], "h_", 24)) return bad("host id '" + seg[2].substr(0, 64) + "' must look like h_ + 24 hex");
    if (m == "DELETE") {
      // Revokes the host's credential: it can no longer check in, report or download.
      NR_TRY_RESP(auto gone, store.revoke_host(seg[2], t));
      if (!gone) return not_found("no host " + seg[2]);
      host_cache.forget_host(seg[2]);
      drop_parked_poll(seg[2]);  // its waiting check-in gets 401 now, not an offer later
      audit(actor, "host.revoke", {{"id", seg[2]}});
      log::info("host {} revoked by {}", seg[2], actor.id);
      return json_response(200, {{"revoked", seg[2]}});
    }
    NR_TRY_RESP(auto h, store.get_host(seg[2]));
    if (!h) return not_found("no host " + seg[2]);
    NR_TRY_RESP(auto hist, store.host_history(seg[2], 100));
    json j = host_to_json(*h);
    json a = json::array();
    for (const auto& e : hist) {
      json d = json::parse(e.detail, nullptr, false);
      a.push_back({{"time", e.time}, {"kind", e.kind}, {"detail", d.is_discarded() ? json(e.detail) : d}});
    }
    j["history"] = a;
    return json_response(200, j);
  }
  if (what == "fleet" && seg.size() == 2) {
    if (!get) return method("GET");
    NR_TRY_RESP(auto j, fleet_json());
    return json_response(200, j);
  }
  if (what == "audit" && seg.size() == 2) {  // api_feed_audit.cc
    if (m == "POST") return record_tool_audit(req, actor);
    if (!get) return method("GET, POST");
    return list_audit_request(req);
  }

  // ---- tokens
  if (what == "tokens" && seg.size() >= 3 && (seg[2] == "enrollment" || seg[2] == "admin")) {
    const std::string kind = seg[2];
    if (seg.size() == 3 && get) {
      NR_TRY_RESP(auto list, store.list_tokens(kind));
      json a = json::array();
      for (const auto& tk : list)
        a.push_back({{"id", tk.id}, {"name", tk.name}, {"role", tk.role}, {"group", tk.group}, {"tags", tk.tags},
                     {"expires_at", tk.expires_at}, {"max_uses", tk.max_uses}, {"uses", tk.uses},
                     {"revoked", tk.revoked}, {"created_at", tk.created_at}});
      return json_response(200, {{"tokens", a}});
    }
    if (seg.size() == 3 && m == "POST") {
      auto j = parse_json_object(req.body);
      if (!j) return from(j.error());
      TokenRecord tk;
      tk.id = "t_" + random_hex(8);
      tk.kind = kind;
      tk.created_at = t;
      auto str = [&](const char* k) -> std::optional<std::string> {
        if (!j->contains(k) || (*j)[k].is_null()) return std::string();
        if (!(*j)[k].is_string()) return std::nullopt;
        return (*j)[k].get<std::string>();
      };
      auto name = str("name");
      if (!name || name->size() > 128) return bad("name: must be a string of at most 128 bytes");
      tk.name = *name;
      std::string secret;
      if (kind == "enrollment") {
        auto group = str("group");
        if (!group || (!group->empty() && !api::is_name(*group))) return bad("group: 1-64 characters of A-Z a-z 0-9 . _ -");
        tk.group = *group;
        if (j->contains("tags") && !(*j)["tags"].is_null()) {
          if (!(*j)["tags"].is_array() || (*j)["tags"].size() > 64) return bad("tags: must be an array of names");
          for (const auto& e : (*j)["tags"]) {
            if (!e.is_string() || !api::is_name(e.get<std::string>())) return bad("tags: each tag is 1-64 characters of A-Z a-z 0-9 . _ -");
            tk.tags.push_back(e.get<std::string>());
          }
        }
        std::int64_t ttl = 86400;
        if (j->contains("ttl_seconds")) {
          if (!(*j)["ttl_seconds"].is_number_integer() || (*j)["ttl_seconds"].get<std::int64_t>() <= 0 ||
              (*j)["ttl_seconds"].get<std::int64_t>() > 366LL * 86400)
            return bad("ttl_seconds: must be 1..31622400");
          ttl = (*j)["ttl_seconds"].get<std::int64_t>();
        }
        tk.expires_at = t + ttl;
        // Without max_uses a token enrolls at most kDefaultEnrollmentUses hosts: a leaked
        // token is not a licence to enroll without end. Ask for more explicitly (0: unlimited).
        tk.max_uses = kDefaultEnrollmentUses;
        if (j->contains("max_uses") && !(*j)["max_uses"].is_null()) {
          if (!(*j)["max_uses"].is_number_integer() || (*j)["max_uses"].get<std::int64_t>() < 0)
            return bad("max_uses: must be a non-negative integer (default " + std::to_string(kDefaultEnrollmentUses) +
                       "; 0: unlimited)");
          tk.max_uses = (*j)["max_uses"].get<std::int64_t>();
        }
        tk.role = "";
        secret = "nre_" + random_hex(24);
      } else {
        auto role = str("role");
        if (!role || (*role != "admin" && *role != "read")) return bad("role: must be \"admin\" or \"read\"");
        tk.role = *role;
        secret = "nra_" + random_hex(24);
      }
      NR_TRY_RESP_STATUS(store.create_token(tk, sha256_hex(secret)));
      audit(actor, "token." + kind + ".create", {{"id", tk.id}, {"name", tk.name}, {"group", tk.group}, {"role", tk.role}});
      return json_response(201, {{"id", tk.id}, {"token", secret}, {"expires_at", tk.expires_at},
                                 {"group", tk.group}, {"tags", tk.tags}, {"role", tk.role}});
    }
    if (seg.size() == 3) return method("GET, POST");
    if (seg.size() == 4) {
      if (m != "DELETE") return method("DELETE");
      if (!id_ok(seg[3], "t_", 16)) return bad("token id '" + seg[3].substr(0, 64) + "' must look like t_ + 16 hex");
      if (kind == "admin") {
        NR_TRY_RESP(auto outcome, store.revoke_admin_token(seg[3], t));
        if (outcome == Store::AdminRevoke::not_found) return not_found("no admin token " + seg[3]);
        if (outcome == Store::AdminRevoke::last_admin)
          return error_response({409, "last_admin_token",
                                 "token " + seg[3] + " is the last usable admin-role token: create another first "
                                 "(noreboot-admin token create-admin --role admin), then revoke this one"});
      } else {
        NR_TRY_RESP(auto gone, store.revoke_token(seg[3], kind));
        if (!gone) return not_found("no " + kind + " token " + seg[3]);
      }
      audit(actor, "token." + kind + ".revoke", {{"id", seg[3]}});
      return json_response(200, {{"revoked", seg[3]}});
    }
  }

  return not_found("no API route " + req.method + " " + req.path.substr(0, 128) + " (see docs/api.md)");
}

}  // namespace noreboot::server
