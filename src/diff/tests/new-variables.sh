#!/bin/bash
# New global and static variables are carried by the patch (defined in the output object).
. "$(dirname "$0")/common.sh"
cat > "$T/orig.c" <<'EOF'
int count_events(int x) { return x + 1; }
EOF
cat > "$T/patched.c" <<'EOF'
int events_seen;
static long events_total = 5;
int count_events(int x) { events_seen++; events_total += x; return x + 1 + (int)events_total; }
EOF
build_plain
run_diff
expect_exit 0
expect_json '.changed' '["count_events"]'
expect_json '.new_data' '["events_seen","events_total"]'
expect_symbol events_seen '[0-9]+'
expect_symbol events_total '[0-9]+'
expect_json '.references | map(select(.name == "events_seen" or .name == "events_total")) | length' '0'
expect_linkable
pass
