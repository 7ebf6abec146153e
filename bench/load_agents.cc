// noreboot-load: simulated agents against a noreboot-server over loopback, for the figures in
// docs/benchmarks.md ("## Server").
//
// Problem: measuring what one server holds (connected long-polling agents, memory), how many
// check-ins per second it answers, and how long a published fix takes to reach thousands of
// agents, without thousands of processes or threads. Approach: one thread, one Asio
// io_context, one small state machine per agent with its own keep-alive TCP connection and a
// hand-written HTTP/1.1 exchange (request string out, status line + headers + Content-Length
// body in). Everything is bounded: a fixed number of agents, a fixed duration or until every
// agent has applied the fix, a hard time limit.
//
// Modes:
//   checkins  every agent checks in (wait=0) back to back for --seconds: check-ins per second.
//   reports   every agent posts a report back to back for --seconds: each one a write (host
//             status and a history event), so this is the group-commit throughput.
//   hold      every agent parks a long poll (wait=300); prints how many are parked and the
//             server's RSS (--server-pid), then stops.
//   rollout   every agent parks a long poll; then this tool publishes --bundle and creates a
//             rollout (--stages); agents that get an offer download the bundle, report
//             "applied" (or "failed" for --fail-percent of them) and poll again. Prints the
//             publish-to-applied latency (p50, p99, max) and how the rollout ended.
//             With --fix DIR instead of --bundle: agent i runs kernel i mod --kernels (6.1.0-56-amd64
//             with --build-id, then -57, -58, ... each with its own build ID, the last byte of
//             --build-id replaced by the kernel's number); the tool publishes every bundle of
//             DIR's fix record (DIR/fix.json, DIR/fix.sig: one bundle per kernel, made by
//             bench/load_server.sh), then the record (POST /v1/fixes), then ONE fix rollout
//             ("fix": the record's first fix id); each agent is offered its own kernel's bundle.
//             The clock starts at the first bundle upload, as for --bundle.
//   static    GET --path back to back for --seconds (the nginx ceiling, same client code).
//
// Enrollment: agents enroll with --enroll-token (mode checkins/hold/rollout), `--enroll-rate`
// at a time. Output: a human summary on stderr and one JSON object on stdout.
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string mode = "checkins";
  std::string host = "127.0.0.1";
  int port = 0;
  int agents = 100;
  double seconds = 10;
  int wait = 300;
  std::string enroll_token;
  std::string admin_token;
  std::string bundle;  // .nrp to publish (rollout)
  std::string fix_dir;  // or: a fix record and its bundles to publish, one fix rollout (rollout)
  int kernels = 1;      // agents spread over this many kernel identities
  std::string stages = "100:0:0";
  double fail_percent = 0;
  int server_pid = 0;
  std::string path = "/";
  int enroll_parallel = 64;
  double limit_seconds = 600;  // hard stop
  std::string build_id = "00112233445566778899aabbccddeeff00112233";
  std::string release = "6.1.0-56-amd64";
};

long rss_kib(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Kernel memory of TCP sockets, for the per-connection cost beside the server's RSS: the
// active objects and object size of the "TCP" slab (/proc/slabinfo; both ends of every
// loopback connection are counted) and TCP buffer pages (/proc/net/sockstat). -1: unreadable.
json kernel_tcp_memory() {
  json out = {{"tcp_slab_objects", -1}, {"tcp_slab_object_bytes", -1}, {"tcp_buffer_pages", -1}};
  std::ifstream slab("/proc/slabinfo");
  std::string line;
  while (std::getline(slab, line))
    if (line.rfind("TCP ", 0) == 0) {
      long active = 0, total = 0, size = 0;
      if (std::sscanf(line.c_str(), "TCP %ld %ld %ld", &active, &total, &size) == 3) {
        out["tcp_slab_objects"] = active;
        out["tcp_slab_object_bytes"] = size;
      }
    }
  std::ifstream stat("/proc/net/sockstat");
  while (std::getline(stat, line)) {
    auto pos = line.find(" mem ");
    if (line.rfind("TCP:", 0) == 0 && pos != std::string::npos) out["tcp_buffer_pages"] = std::stol(line.substr(pos + 5));
  }
  return out;
}

// One keep-alive HTTP/1.1 connection with a single request in flight.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  using Done = std::function<void(int status, std::string body)>;
  Conn(net::io_context& io, tcp::endpoint ep) : sock_(io), ep_(ep) {}

  void request(const std::string& method, const std::string& target, const std::string& body,
               const std::string& token, Done done) {
    req_ = method + " " + target + " HTTP/1.1\r\nHost: bench\r\n";
    if (!token.empty()) req_ += "Authorization: Bearer " + token + "\r\n";
    if (method != "GET") {
      // The server takes a write's body only under its media type (docs/api.md).
      const char* type = target == "/v1/bundles" ? "application/octet-stream" : "application/json";
      req_ += std::string("Content-Type: ") + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req_ += "\r\n" + body;
    done_ = std::move(done);
    retried_ = false;
    if (!sock_.is_open()) connect();
    else write();
  }

 private:
  void connect() {
    boost::system::error_code ec;
    sock_.close(ec);
    sock_.async_connect(ep_, [self = shared_from_this()](boost::system::error_code e) {
      if (e) return self->finish(-1, e.message());
      self->sock_.set_option(tcp::no_delay(true));
      self->write();
    });
  }
  void write() {
    net::async_write(sock_, net::buffer(req_), [self = shared_from_this()](boost::system::error_code e, std::size_t) {
      if (e) return self->retry(e);
      self->read_head();
    });
  }
  void retry(boost::system::error_code e) {
    if (retried_) return finish(-1, e.message());
    retried_ = true;  // the server closed an idle keep-alive connection: reconnect once
    buf_.consume(buf_.size());
    connect();
  }
  void read_head() {
    net::async_read_until(sock_, buf_, "\r\n\r\n", [self = shared_from_this()](boost::system::error_code e, std::size_t n) {
      if (e) return self->retry(e);
      std::string head(net::buffers_begin(self->buf_.data()), net::buffers_begin(self->buf_.data()) + static_cast<long>(n));
      self->buf_.consume(n);
      int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : -1;
      std::size_t len = 0;
      for (std::size_t pos = 0; (pos = head.find('\n', pos)) != std::string::npos;) {
        ++pos;
        if (head.size() - pos > 15 && (head.compare(pos, 15, "Content-Length:") == 0 || head.compare(pos, 15, "content-length:") == 0))
          len = std::stoul(head.substr(pos + 15));
      }
      self->status_ = status;
      self->read_body(len);
    });
  }
  void read_body(std::size_t len) {
    if (buf_.size() >= len) {
      std::string body(net::buffers_begin(buf_.data()), net::buffers_begin(buf_.data()) + static_cast<long>(len));
      buf_.consume(len);
      return finish(status_, std::move(body));
    }
    net::async_read(sock_, buf_, net::transfer_at_least(len - buf_.size()),
                    [self = shared_from_this(), len](boost::system::error_code e, std::size_t) {
                      if (e) return self->finish(-1, e.message());
                      self->read_body(len);
                    });
  }
  void finish(int status, std::string body) {
    auto d = std::move(done_);
    done_ = nullptr;
    if (d) d(status, std::move(body));
  }

  tcp::socket sock_;
  tcp::endpoint ep_;
  net::streambuf buf_;
  std::string req_;
  Done done_;
  int status_ = 0;
  bool retried_ = false;
};

struct Agent {
  std::shared_ptr<Conn> conn;
  std::string id, credential;
  std::uint64_t applied_seq = 0;
  std::string applied_sha;
  bool done = false;
  bool fail = false;
  int kernel = 0;  // its kernel identity: 0 .. --kernels - 1
};

// Kernel k of --kernels: k = 0 is --release/--build-id; the others get the next release
// numbers and their own build IDs (bench/load_server.sh signs a bundle for each).
std::string kernel_release(const Options& o, int k) {
  if (k == 0) return o.release;
  return "6.1.0-" + std::to_string(56 + k) + "-amd64";
}
std::string kernel_build_id(const Options& o, int k) {
  if (k == 0) return o.build_id;
  char last[3];
  std::snprintf(last, sizeof last, "%02x", k & 0xff);
  return o.build_id.substr(0, o.build_id.size() - 2) + last;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class Bench {
 public:
  Bench(Options o) : o_(std::move(o)), ep_(net::ip::make_address(o_.host), static_cast<unsigned short>(o_.port)),
                     deadline_timer_(io_) {}

  int run() {
    start_ = Clock::now();
    deadline_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(o_.limit_seconds * 1000)));
    deadline_timer_.async_wait([this](boost::system::error_code e) {
      if (!e) {
        std::cerr << "noreboot-load: hard time limit reached\n";
        timed_out_ = true;
        io_.stop();
      }
    });
    agents_.resize(o_.agents);
    for (auto& a : agents_) a.conn = std::make_shared<Conn>(io_, ep_);
    if (o_.mode == "static") {
      start_measure();
      for (std::size_t i = 0; i < agents_.size(); ++i) static_loop(i);
    } else {
      for (int i = 0; i < std::min(o_.enroll_parallel, o_.agents); ++i) enroll_next();
    }
    io_.run();
    return report();
  }

 private:
  std::string kernel(const Agent& a) const {
    return "{\"release\":\"" + kernel_release(o_, a.kernel) + "\",\"version\":\"#1\",\"build_id\":\"" +
           kernel_build_id(o_, a.kernel) + "\",\"arch\":\"x86_64\"}";
  }
  std::string checkin_body(const Agent& a) const {
    std::string applied = a.applied_seq ? "{\"name\":\"nr_fix\",\"sequence\":" + std::to_string(a.applied_seq) +
                                              ",\"bundle_sha256\":\"" + a.applied_sha + "\"}"
                                        : "null";
    return "{\"kernel\":" + kernel(a) + ",\"applied\":" + applied + ",\"state\":\"" +
           (a.applied_seq ? "applied" : "idle") + "\",\"agent_version\":\"load\"}";
  }

  void enroll_next() {
    if (next_enroll_ >= agents_.size()) return;
    std::size_t i = next_enroll_++;
    agents_[i].kernel = static_cast<int>(i % static_cast<std::size_t>(std::max(1, o_.kernels)));
    std::string body = "{\"token\":\"" + o_.enroll_token + "\",\"hostname\":\"sim-" + std::to_string(i) +
                       "\",\"kernel\":" + kernel(agents_[i]) + "}";
    agents_[i].conn->request("POST", "/v1/enroll", body, "", [this, i](int st, std::string b) {
      if (st != 201) {
        ++errors_;
        std::cerr << "enroll " << i << ": " << st << " " << b.substr(0, 200) << "\n";
      } else {
        auto j = json::parse(b);
        agents_[i].id = j["host_id"];
        agents_[i].credential = j["credential"];
      }
      agents_[i].fail = (static_cast<double>(i % 1000) < o_.fail_percent * 10);
      if (++enrolled_ == agents_.size()) all_enrolled();
      else enroll_next();
    });
  }

  void all_enrolled() {
    enroll_seconds_ = secs(Clock::now() - start_);
    std::cerr << "enrolled " << enrolled_ << " agents in " << enroll_seconds_ << " s\n";
    if (o_.mode == "checkins") {
      start_measure();
      for (std::size_t i = 0; i < agents_.size(); ++i) checkin_loop(i);
    } else if (o_.mode == "reports") {
      start_measure();
      for (std::size_t i = 0; i < agents_.size(); ++i) report_loop(i);
    } else {
      for (std::size_t i = 0; i < agents_.size(); ++i) park(i);
      poll_parked();
    }
  }

  void start_measure() {
    measure_start_ = Clock::now();
    auto t = std::make_shared<net::steady_timer>(io_);
    t->expires_after(std::chrono::milliseconds(static_cast<long>(o_.seconds * 1000)));
    t->async_wait([this, t](boost::system::error_code) {
      measured_ = secs(Clock::now() - measure_start_);
      stop_ = true;
      io_.stop();
    });
  }

  void checkin_loop(std::size_t i) {
    if (stop_) return;
    auto& a = agents_[i];
    a.conn->request("POST", "/v1/checkin", checkin_body(a), a.credential, [this, i](int st, std::string) {
      if (st == 200) ++completed_;
      else ++errors_;
      checkin_loop(i);
    });
  }

  // Every report is a write (host status, history event): the group-commit path.
  void report_loop(std::size_t i) {
    if (stop_) return;
    auto& a = agents_[i];
    std::string body = "{\"host_id\":\"" + a.id + "\",\"state\":\"idle\",\"kernel\":" + kernel(a) +
                       ",\"applied\":null,\"errors\":[]}";
    a.conn->request("POST", "/v1/report", body, a.credential, [this, i](int st, std::string) {
      if (st == 200) ++completed_;
      else ++errors_;
      report_loop(i);
    });
  }

  void static_loop(std::size_t i) {
    if (stop_) return;
    agents_[i].conn->request("GET", o_.path, "", "", [this, i](int st, std::string) {
      if (st == 200) ++completed_;
      else ++errors_;
      static_loop(i);
    });
  }

  // A long poll; on an offer: download, report, poll again.
  void park(std::size_t i) {
    auto& a = agents_[i];
    ++parked_;
    a.conn->request("POST", "/v1/checkin?wait=" + std::to_string(o_.wait), checkin_body(a), a.credential,
                    [this, i](int st, std::string b) {
                      --parked_;
                      if (st != 200) {
                        ++errors_;
                        return;
                      }
                      auto j = json::parse(b, nullptr, false);
                      if (j.is_discarded() || j["offer"].is_null()) {
                        if (!stop_) park(i);
                        return;
                      }
                      apply(i, j["offer"]);
                    });
  }

  void apply(std::size_t i, const json& offer) {
    auto& a = agents_[i];
    std::string sha = offer["sha256"], url = offer["url"];
    std::uint64_t seq = offer["sequence"];
    ++offered_;
    offer_latencies_.push_back(secs(Clock::now() - publish_start_));
    a.conn->request("GET", url, "", a.credential, [this, i, sha, seq](int st, std::string body) {
      auto& ag = agents_[i];
      if (st != 200 || body.empty()) {
        ++errors_;
        return;
      }
      std::string state = ag.fail ? "failed" : "applied";
      if (!ag.fail) {
        ag.applied_seq = seq;
        ag.applied_sha = sha;
      }
      std::string applied = ag.fail ? "null" : "{\"name\":\"nr_fix\",\"sequence\":" + std::to_string(seq) +
                                                   ",\"bundle_sha256\":\"" + sha + "\"}";
      std::string report = "{\"host_id\":\"" + ag.id + "\",\"state\":\"" + state + "\",\"kernel\":" + kernel(ag) +
                           ",\"applied\":" + applied + ",\"bundle_sha256\":\"" + sha + "\",\"errors\":" +
                           (ag.fail ? "[\"simulated failure\"]" : "[]") + "}";
      ag.conn->request("POST", "/v1/report", report, ag.credential, [this, i](int rs, std::string) {
        if (rs != 200) ++errors_;
        auto& g = agents_[i];
        if (!g.fail) {
          latencies_.push_back(secs(Clock::now() - publish_start_));
          if (latencies_.size() == agents_.size()) {
            stop_ = true;
            io_.stop();
            return;
          }
        } else {
          ++failed_;
        }
        if (!stop_) park(i);
      });
    });
  }

  // Waits until every agent is parked, then (hold) measures or (rollout) publishes.
  void poll_parked() {
    auto t = std::make_shared<net::steady_timer>(io_);
    t->expires_after(std::chrono::milliseconds(200));
    t->async_wait([this, t](boost::system::error_code) {
      if (parked_ < agents_.size() && secs(Clock::now() - start_) < o_.limit_seconds) return poll_parked();
      // Parked on our side; give the server a moment to have read every request.
      auto settle = std::make_shared<net::steady_timer>(io_);
      settle->expires_after(std::chrono::seconds(2));
      settle->async_wait([this, settle](boost::system::error_code) {
        held_ = parked_;
        rss_ = rss_kib(o_.server_pid);
        kernel_tcp_ = kernel_tcp_memory();
        std::cerr << "parked " << held_ << " long polls; server RSS " << rss_ << " KiB\n";
        if (o_.mode == "hold") {
          stop_ = true;
          io_.stop();
        } else {
          publish();
        }
      });
    });
  }

  void publish() {
    admin_ = std::make_shared<Conn>(io_, ep_);
    publish_start_ = Clock::now();
    if (!o_.fix_dir.empty()) return publish_fix();
    std::string nrp = read_all(o_.bundle);
    admin_->request("POST", "/v1/bundles", nrp, o_.admin_token, [this](int st, std::string b) {
      if (st != 201 && st != 200) {
        std::cerr << "publish: " << st << " " << b << "\n";
        io_.stop();
        return;
      }
      start_rollout({{"bundle_sha256", json::parse(b)["sha256"]}});
    });
  }

  // --fix DIR: every bundle the record names, then the record, then one fix rollout.
  void publish_fix() {
    std::string record = read_all(o_.fix_dir + "/fix.json");
    json rec = json::parse(record);
    std::vector<std::string> files;
    for (const auto& k : rec["kernels"])
      if (k.contains("bundle")) files.push_back(o_.fix_dir + "/" + k["bundle"]["file"].get<std::string>());
    std::string fix_id = rec["fixes"][0]["id"];
    publish_bundles(files, 0, [this, record, fix_id] {
      std::string sig = read_all(o_.fix_dir + "/fix.sig");
      json body = {{"record", base64(record)}, {"signature", sig}};
      admin_->request("POST", "/v1/fixes", body.dump(), o_.admin_token, [this, fix_id](int st, std::string b) {
        if (st != 201 && st != 200) {
          std::cerr << "publish fix record: " << st << " " << b << "\n";
          io_.stop();
          return;
        }
        start_rollout({{"fix", fix_id}});
      });
    });
  }
  void publish_bundles(std::vector<std::string> files, std::size_t i, std::function<void()> then) {
    if (i == files.size()) return then();
    std::string nrp = read_all(files[i]);
    admin_->request("POST", "/v1/bundles", nrp, o_.admin_token,
                    [this, files, i, then](int st, std::string b) {
                      if (st != 201 && st != 200) {
                        std::cerr << "publish " << files[i] << ": " << st << " " << b << "\n";
                        io_.stop();
                        return;
                      }
                      publish_bundles(files, i + 1, then);
                    });
  }

  // Creates the rollout: `what` is {"bundle_sha256": ...} or {"fix": ...}, plus --stages.
  void start_rollout(json body) {
    {
      json stages = json::array();
      std::size_t pos = 0;
      while (pos < o_.stages.size()) {
        auto comma = o_.stages.find(',', pos);
        std::string s = o_.stages.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        double pct = 100;
        long soak = 0, budget = 0;
        std::sscanf(s.c_str(), "%lf:%ld:%ld", &pct, &soak, &budget);
        stages.push_back({{"percent", pct}, {"soak_seconds", soak}, {"failure_budget", budget}});
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      body["stages"] = stages;
      admin_->request("POST", "/v1/rollouts", body.dump(), o_.admin_token, [this](int rs, std::string rb) {
        if (rs != 201) {
          std::cerr << "rollout: " << rs << " " << rb << "\n";
          io_.stop();
          return;
        }
        rollout_id_ = json::parse(rb)["id"];
        std::cerr << "published and started rollout " << rollout_id_ << " after "
                  << secs(Clock::now() - publish_start_) << " s\n";
        if (o_.fail_percent > 0) watch_rollout();
      });
    }
  }

  // With failures: stop once the rollout has halted and nothing moved for a few seconds.
  void watch_rollout() {
    auto t = std::make_shared<net::steady_timer>(io_);
    t->expires_after(std::chrono::milliseconds(500));
    t->async_wait([this, t](boost::system::error_code) {
      admin_->request("GET", "/v1/rollouts/" + rollout_id_, "", o_.admin_token, [this](int st, std::string b) {
        if (st == 200) {
          auto j = json::parse(b);
          final_rollout_ = j;
          if (j["state"] == "halted") {
            if (halted_at_ < 0) halted_at_ = secs(Clock::now() - publish_start_);
            if (secs(Clock::now() - publish_start_) > halted_at_ + 3) {
              stop_ = true;
              io_.stop();
              return;
            }
          }
        }
        watch_rollout();
      });
    });
  }

  static double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

  int report() {
    json out = {{"mode", o_.mode}, {"agents", o_.agents}, {"errors", errors_}, {"timed_out", timed_out_}};
    if (enroll_seconds_ > 0) out["enroll_seconds"] = enroll_seconds_;
    if (o_.mode == "checkins" || o_.mode == "reports" || o_.mode == "static") {
      double rate = measured_ > 0 ? static_cast<double>(completed_) / measured_ : 0;
      out["requests"] = completed_;
      out["seconds"] = measured_;
      out["per_second"] = rate;
      std::cerr << completed_ << " requests in " << measured_ << " s: " << static_cast<long>(rate) << "/s, "
                << errors_ << " errors\n";
    }
    if (o_.mode == "hold" || o_.mode == "rollout") {
      out["held"] = held_;
      out["server_rss_kib"] = rss_;
      if (o_.mode == "hold") out["kernel_tcp"] = kernel_tcp_;
    }
    if (o_.mode == "rollout") {
      std::sort(latencies_.begin(), latencies_.end());
      auto pct = [&](double p) {
        if (latencies_.empty()) return -1.0;
        std::size_t k = std::min(latencies_.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies_.size())));
        return latencies_[k];
      };
      out["offered"] = offered_;
      out["applied"] = latencies_.size();
      out["failed"] = failed_;
      std::sort(offer_latencies_.begin(), offer_latencies_.end());
      if (!offer_latencies_.empty()) {
        out["offer_p50"] = offer_latencies_[offer_latencies_.size() / 2];
        out["offer_p99"] = offer_latencies_[std::min(offer_latencies_.size() - 1, offer_latencies_.size() * 99 / 100)];
      }
      out["p50"] = pct(0.50);
      out["p99"] = pct(0.99);
      out["max"] = latencies_.empty() ? -1.0 : latencies_.back();
      if (!final_rollout_.is_null()) {
        out["rollout_state"] = final_rollout_["state"];
        out["halt_reason"] = final_rollout_["halt_reason"];
        out["halted_after"] = halted_at_;
      }
      std::cerr << "offered " << offered_ << ", applied " << latencies_.size() << ", failed " << failed_
                << "; publish-to-applied p50 " << pct(0.5) << " s, p99 " << pct(0.99) << " s\n";
    }
    std::cout << out.dump() << "\n";
    return errors_ == 0 && !timed_out_ ? 0 : 1;
  }

  Options o_;
  net::io_context io_;
  tcp::endpoint ep_;
  net::steady_timer deadline_timer_;
  std::vector<Agent> agents_;
  std::shared_ptr<Conn> admin_;
  std::size_t next_enroll_ = 0, enrolled_ = 0, parked_ = 0, held_ = 0;
  std::uint64_t completed_ = 0, errors_ = 0, offered_ = 0, failed_ = 0;
  bool stop_ = false, timed_out_ = false;
  Clock::time_point start_, measure_start_, publish_start_;
  double measured_ = 0, enroll_seconds_ = 0, halted_at_ = -1;
  long rss_ = -1;
  std::vector<double> latencies_;        // publish -> "applied" report acknowledged
  std::vector<double> offer_latencies_;  // publish -> offer received
  std::string rollout_id_;
  json final_rollout_;
  json kernel_tcp_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") o.mode = v;
    else if (k == "--host") o.host = v;
    else if (k == "--port") o.port = std::stoi(v);
    else if (k == "--agents") o.agents = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--wait") o.wait = std::stoi(v);
    else if (k == "--enroll-token") o.enroll_token = v;
    else if (k == "--admin-token") o.admin_token = v;
    else if (k == "--bundle") o.bundle = v;
    else if (k == "--fix") o.fix_dir = v;
    else if (k == "--kernels") o.kernels = std::stoi(v);
    else if (k == "--stages") o.stages = v;
    else if (k == "--fail-percent") o.fail_percent = std::stod(v);
    else if (k == "--server-pid") o.server_pid = std::stoi(v);
    else if (k == "--path") o.path = v;
    else if (k == "--enroll-parallel") o.enroll_parallel = std::stoi(v);
    else if (k == "--limit") o.limit_seconds = std::stod(v);
    else if (k == "--build-id") o.build_id = v;
    else {
      std::cerr << "noreboot-load: unknown option " << k << "\n";
      return 2;
    }
  }
  if (o.port <= 0 || o.agents <= 0 || o.agents > 200000 || o.kernels < 1 || o.kernels > 200) {
    std::cerr << "usage: noreboot-load --mode checkins|hold|rollout|static --port PORT --agents N [...]\n"
                 "(see the comment at the top of bench/load_agents.cc)\n";
    return 2;
  }
  Bench b(o);
  return b.run();
}
