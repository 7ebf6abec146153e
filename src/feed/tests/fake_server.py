#!/usr/bin/env python3
# A stand-in for noreboot-server in feed_faults: the few endpoints noreboot-feed calls, read
# from and written to files of a folder the test controls.
#   GET  /v1/fleet     -> DIR/fleet.json
#   GET  /v1/bundles   -> {"bundles": [each line of DIR/bundles.jsonl]} (the admin stand-in appends)
#   GET  /v1/rollouts  -> {"rollouts": DIR/rollouts.json}
#   POST /v1/rollouts  -> appends {"id", "fix", "stages", "await_approval"} to DIR/rollouts.json, 201
#   POST /v1/audit     -> appends the body to DIR/audit.jsonl, 201; 503 while DIR/audit-down exists
# Every request needs "Authorization: Bearer " + the content of DIR/token; each is logged to
# DIR/requests.log. Usage: fake_server.py DIR PORT (PORT 0: any; the port is written to DIR/port).
import http.server, json, os, sys

d, port = sys.argv[1], int(sys.argv[2])

def load(name, default):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authed(self):
        with open(os.path.join(d, "requests.log"), "a") as f:
            f.write(f"{self.command} {self.path}\n")
        token = open(os.path.join(d, "token")).read().strip()
        if self.headers.get("Authorization") != "Bearer " + token:
            self.answer(401, {"error": {"code": "unauthorized", "message": "bad token"}})
            return False
        return True

    def do_GET(self):
        if not self.authed():
            return
        if self.path == "/v1/fleet":
            return self.answer(200, load("fleet.json", {"hosts": 0, "by_kernel": []}))
        if self.path == "/v1/bundles":
            rows = []
            if os.path.exists(os.path.join(d, "bundles.jsonl")):
                rows = [json.loads(l) for l in open(os.path.join(d, "bundles.jsonl")) if l.strip()]
            return self.answer(200, {"bundles": rows})
        if self.path == "/v1/rollouts":
            return self.answer(200, {"rollouts": load("rollouts.json", [])})
        self.answer(404, {"error": {"code": "not_found", "message": self.path}})

    def do_POST(self):
        if not self.authed():
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/v1/rollouts":
            rs = load("rollouts.json", [])
            r = {"id": "r_%016x" % (len(rs) + 1), "fix": body.get("fix", ""), "stages": body.get("stages"),
                 "await_approval": body.get("await_approval", False)}
            rs.append(r)
            with open(os.path.join(d, "rollouts.json.tmp"), "w") as f:
                json.dump(rs, f)
            os.rename(os.path.join(d, "rollouts.json.tmp"), os.path.join(d, "rollouts.json"))
            return self.answer(201, r)
        if self.path == "/v1/audit":
            if os.path.exists(os.path.join(d, "audit-down")):
                return self.answer(503, {"error": {"code": "unavailable", "message": "the store is unavailable"}})
            with open(os.path.join(d, "audit.jsonl"), "a") as f:
                f.write(json.dumps(body) + "\n")
            return self.answer(201, body)
        self.answer(404, {"error": {"code": "not_found", "message": self.path}})

class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True

srv = S(("127.0.0.1", port), H)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
srv.serve_forever()
