#!/bin/bash
# A changed layout of existing data (visible as its size) is refused.
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
struct stats { long hits; };
static struct stats st;
long record(long x) { st.hits += x; return st.hits; }
EOF
cat > "$T/patched.c" <<'EOF'
struct stats { long hits; long misses; };
static struct stats st;
long record(long x) { st.hits += x; if (!x) st.misses++; return st.hits; }
EOF
build_plain
run_diff
expect_exit 3
expect_refused st "changed type layout"
jq -e '.refused[] | select(.symbol == "st") | .reason | contains("8 -> 16 bytes")' "$T/out.json" >/dev/null ||
  fail "the refusal does not give the sizes"
pass
