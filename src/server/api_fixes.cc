// Fixes as first-class objects: signed fix records in, exposure per fix id out.
//
// Problem: a security team asks which hosts are still exposed to a fix (a CVE), across every
// kernel of the fleet. Bundles say which fixes they carry (their signed manifests; cumulative
// bundles carry every earlier fix), and hosts say which bundle they run; what neither says is
// what the build found for the kernels that got no bundle: already fixed, the fix does not
// apply, refused, not buildable. The fix record (core/fix_record.h) says it, signed by the
// publisher, so the exposure cannot be forged through the API.
// Approach: POST /v1/fixes verifies the record against the publisher keys the bundles are
// checked against, checks that every bundle it names was uploaded, is for the kernel the
// record says and carries the fix, and stores it (the store refuses a record that disagrees
// with a stored one). The exposure of a fix is computed on demand from three small reads: the
// fix's kernel rows, the bundles' fix ids, and the hosts grouped by (kernel, applied bundle).
// Each host lands in exactly one group, in this order:
//   patched        its applied bundle carries the fix id (whatever kernel: a later cumulative
//                  bundle built without this record still counts);
//   exposed        its kernel is one the fix was built for (same build ID as the bundle);
//   already_fixed  its kernel's source already contains the fix (release and Debian version);
//   not_built      a kernel the records name with another outcome (does not apply, refused,
//                  no change, not buildable, failed);
//   not_covered    a kernel no record of the fix names.
// The classification is one function, fix_groups (server/fix_groups.h): GET /v1/fixes and the
// `exposed` entries of GET /v1/fleet both count from it, so the two views always agree.
// Trade-off: computed per request (no cached counts), so a /metrics scrape reads the hosts
// table grouped once per fix; fine for thousands of hosts and tens of fixes.
#include <algorithm>
#include <map>
#include <set>

#include "core/bundle.h"
#include "core/log.h"
#include "server/api_impl.h"
#include "server/body_fields.h"

namespace noreboot::server {
namespace {

HttpResponse bad(const std::string& msg) { return error_response({400, "invalid_input", msg}); }
HttpResponse refused(const std::string& msg) { return error_response({422, "refused", msg}); }

// "... Debian 6.1.192-2 (2026-11-16)" -> "6.1.192-2"; "" when the text names no Debian version.
// The last "Debian " of the text: a real /proc/version names the compiler's Debian version first
// ("(gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, ...) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (...)").
std::string debian_version_of(const std::string& proc_version) {
  auto pos = proc_version.rfind("Debian ");
  if (pos == std::string::npos) return "";
  pos += 7;
  auto end = proc_version.find_first_of(" )", pos);
  return proc_version.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

json kernel_row_json(const FixKernelRow& k) {
  json j = {{"release", k.release}, {"version", k.version}, {"outcome", k.outcome}};
  if (!k.bundle_sha256.empty()) {
    j["bundle_sha256"] = k.bundle_sha256;
    j["build_id"] = k.build_id;
    j["sequence"] = k.sequence;
  } else {
    j["reason"] = k.reason;
  }
  j["record_sha256"] = k.record_sha256;
  return j;
}

}  // namespace

Status Api::Impl::fill_bundle_fix_ids(std::vector<BundleRecord>& bundles) {
  for (auto& b : bundles) {
    if (b.fix_ids) continue;
    NR_TRY(auto content, store.get_bundle_content(b.sha256));
    std::vector<std::string> ids;
    if (content) {
      auto c = read_bundle_bytes(as_bytes(*content));
      if (!c) {
        log::warn("bundle {}: cannot read its manifest for its fix ids: {}", b.sha256, c.error().message());
        b.fix_ids = ids;
        continue;  // not written back: a later server version may read it
      }
      for (const auto& f : c->manifest.fixes) ids.push_back(f.id);
    }
    NR_TRY_STATUS(store.set_bundle_fix_ids(b.sha256, ids));
    b.fix_ids = std::move(ids);
  }
  return ok_status();
}

const char* fix_group_name(FixGroup g) {
  switch (g) {
    case FixGroup::patched: return "patched";
    case FixGroup::exposed: return "exposed";
    case FixGroup::already_fixed: return "already_fixed";
    case FixGroup::not_built: return "not_built";
    case FixGroup::not_covered: return "not_covered";
  }
  return "not_covered";
}

Result<FleetFixGroups> Api::Impl::fix_groups(const std::string& fix_id) {
  FleetFixGroups out;
  NR_TRY(auto fixes_list, store.list_fixes());
  NR_TRY(out.rows, store.fix_kernels(fix_id));
  NR_TRY(auto bundles, store.list_bundles());
  NR_TRY_STATUS(fill_bundle_fix_ids(bundles));
  NR_TRY(out.hosts, store.hosts_by_kernel_and_applied());

  for (const auto& fix : fixes_list) {
    if (!fix_id.empty() && fix.id != fix_id) continue;
    FixClassification c;
    c.fix = fix;
    for (std::size_t i = 0; i < out.rows.size(); ++i)
      if (out.rows[i].fix_id == fix.id) c.rows.push_back(i);
    std::set<std::string> carrying;
    for (const auto& b : bundles)
      if (b.fix_ids && std::find(b.fix_ids->begin(), b.fix_ids->end(), fix.id) != b.fix_ids->end())
        carrying.insert(b.sha256);

    for (const auto& h : out.hosts) {
      std::size_t row = kNoRow;
      for (std::size_t i : c.rows) {
        const FixKernelRow& r = out.rows[i];
        bool built = r.outcome == "built";
        if (built ? (r.build_id == h.build_id && r.release == h.release)
                  : (r.release == h.release &&
                     (debian_version_of(h.version).empty() || debian_version_of(h.version) == r.version))) {
          row = i;
          break;
        }
      }
      FixGroup group;
      if (!h.applied_sha256.empty() && carrying.count(h.applied_sha256)) group = FixGroup::patched;
      else if (row == kNoRow) group = FixGroup::not_covered;
      else if (out.rows[row].outcome == "built") group = FixGroup::exposed;
      else if (out.rows[row].outcome == "already_fixed") group = FixGroup::already_fixed;
      else group = FixGroup::not_built;
      c.group.push_back(group);
      c.row.push_back(row);
    }
    out.fixes.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<json>> Api::Impl::fix_exposure(const std::string& fix_id) {
  NR_TRY(auto all, fix_groups(fix_id));
  std::vector<json> out;
  for (const auto& c : all.fixes) {
    // group -> (release, build id) -> {count, the record's row if any}
    struct Cell { std::int64_t n = 0; const FixKernelRow* row = nullptr; };
    std::map<FixGroup, std::map<std::pair<std::string, std::string>, Cell>> groups;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < all.hosts.size(); ++i) {
      const HostKernelCount& h = all.hosts[i];
      total += h.n;
      Cell& cell = groups[c.group[i]][{h.release, h.build_id}];
      cell.n += h.n;
      cell.row = c.row[i] == kNoRow ? nullptr : &all.rows[c.row[i]];
    }

    json kernels = json::array();
    for (std::size_t i : c.rows) kernels.push_back(kernel_row_json(all.rows[i]));
    json hj = {{"total", total}};
    for (FixGroup g : kFixGroups) {
      std::int64_t count = 0;
      json ks = json::array();
      for (const auto& [key, cell] : groups[g]) {
        count += cell.n;
        json k = {{"release", key.first}, {"build_id", key.second}, {"count", cell.n}};
        if (cell.row) {
          k["version"] = cell.row->version;
          k["outcome"] = cell.row->outcome;
        }
        ks.push_back(std::move(k));
      }
      hj[fix_group_name(g)] = {{"count", count}, {"kernels", ks}};
    }
    out.push_back({{"id", c.fix.id}, {"description", c.fix.description}, {"created_at", c.fix.created_at},
                   {"kernels", kernels}, {"hosts", hj}});
  }
  return out;
}

// POST /v1/fixes/{id}/approve (api_approve.cc does the work).
HttpResponse Api::Impl::fix_approve(const RouteCall& call) {
  return approve_fix(call.req, call.capture("id"), *call.actor);
}

HttpResponse Api::Impl::fix_get(const RouteCall& call) {
  const std::string& id = call.capture("id");
  if (!valid_fix_id(id)) return bad("fix id '" + id.substr(0, 64) + "' is not valid: 1-128 of A-Z a-z 0-9 . _ + -");
  NR_TRY_RESP(auto list, fix_exposure(id));
  if (list.empty()) return error_response({404, "not_found", "no fix record names fix " + id});
  return json_response(200, list[0]);
}

HttpResponse Api::Impl::fixes_get(const RouteCall&) {
  NR_TRY_RESP(auto list, fix_exposure(""));
  return json_response(200, {{"fixes", list}});
}

HttpResponse Api::Impl::fixes_post(const RouteCall& call) {
  const TokenRecord& actor = *call.actor;
  // {"record": "<base64 of fix.json>", "signature": "<fix.sig>"}
  using Need = BodyFields::Need;
  NR_TRY_RESP(auto body, BodyFields::parse(call.req.body, "{\"record\", \"signature\"}"));
  NR_TRY_RESP(auto record64, body.string("record", Need::required, "required, the base64 of fix.json's exact bytes"));
  NR_TRY_RESP(auto signature_text, body.string("signature", Need::required, "required, the text of fix.sig"));
  auto raw = base64_decode(*record64);
  if (!raw) return bad("record: not valid base64 (standard alphabet, with padding)");
  std::string record(raw->begin(), raw->end());
  std::string signature = *signature_text;

  auto verified = fix_verifier(record, signature);
  if (!verified) {
    audit(actor, "fix.publish_refused", {{"reason", verified.error().message()}});
    return refused("fix record refused: " + verified.error().message());
  }
  const FixRecord& rec = verified->record;

  // Every bundle the record names: uploaded, for that kernel, carrying every fix of the record.
  std::vector<std::string> problems;
  for (const auto& k : rec.kernels) {
    if (!k.bundle) continue;
    const FixRecordBundle& fb = *k.bundle;
    NR_TRY_RESP(auto got, store.get_bundle(fb.sha256));
    if (!got) {
      problems.push_back("kernel " + k.release + ": bundle " + fb.sha256 + " (" + fb.file +
                         ") was not uploaded; publish the bundles first (noreboot-admin publish DIR uploads "
                         "them, then the record)");
      continue;
    }
    std::vector<BundleRecord> one = {*got};
    NR_TRY_RESP_STATUS(fill_bundle_fix_ids(one));
    const BundleRecord& b = one[0];
    if (b.kernel_release != k.release || b.kernel_build_id != fb.build_id)
      problems.push_back("kernel " + k.release + ": bundle " + fb.sha256 + " is for kernel " + b.kernel_release +
                         " (build ID " + b.kernel_build_id + "), not " + k.release + " (build ID " + fb.build_id + ")");
    else if (b.patch_name != fb.module || b.sequence != static_cast<std::int64_t>(fb.sequence))
      problems.push_back("kernel " + k.release + ": bundle " + fb.sha256 + " is " + b.patch_name + " sequence " +
                         std::to_string(b.sequence) + ", the record says " + fb.module + " sequence " +
                         std::to_string(fb.sequence));
    for (const auto& f : rec.fixes)
      if (std::find(b.fix_ids->begin(), b.fix_ids->end(), f.id) == b.fix_ids->end())
        problems.push_back("kernel " + k.release + ": bundle " + fb.sha256 + " does not carry fix " + f.id +
                           " in its signed manifest");
  }
  if (!problems.empty()) {
    std::string msg = "fix record refused:";
    for (const auto& p : problems) msg += "\n  " + p;
    audit(actor, "fix.publish_refused", {{"reason", msg}});
    return refused(msg);
  }

  StoredFixRecord stored;
  stored.sha256 = sha256_hex(record);
  stored.record = record;
  stored.signature = signature;
  stored.signer_key_id = verified->signer.id;
  stored.created_at = now();
  for (const auto& f : rec.fixes) {
    stored.fixes.push_back({f.id, f.description, stored.created_at});
    for (const auto& k : rec.kernels)
      stored.kernels.push_back({f.id, k.release, k.version, std::string(kernel_outcome_name(k.outcome)),
                                k.bundle ? k.bundle->sha256 : "", k.bundle ? k.bundle->build_id : "",
                                k.bundle ? static_cast<std::int64_t>(k.bundle->sequence) : 0, k.reason,
                                stored.sha256});
  }
  auto created = store.put_fix_record(stored);
  if (!created) {
    if (created.error().code() == Errc::conflict) {
      audit(actor, "fix.publish_refused", {{"reason", created.error().message()}});
      return error_response({409, "conflict", "fix record refused: " + created.error().message()});
    }
    return error_response(fail_from(created.error()));
  }
  json ids = json::array();
  for (const auto& f : rec.fixes) ids.push_back(f.id);
  if (*created) {
    audit(actor, "fix.publish", {{"sha256", stored.sha256}, {"fixes", ids}, {"kernels", rec.kernels.size()},
                                 {"signer", stored.signer_key_id}});
    log::info("fix record {} for {} ({} kernels)", stored.sha256, ids.dump(), rec.kernels.size());
  }
  json fixes_out = json::array();
  for (const auto& f : rec.fixes) {
    NR_TRY_RESP(auto e, fix_exposure(f.id));
    if (!e.empty()) fixes_out.push_back(e[0]);
  }
  return json_response(*created ? 201 : 200,
                       {{"sha256", stored.sha256}, {"signer", stored.signer_key_id}, {"fixes", fixes_out}});
}

}  // namespace noreboot::server
