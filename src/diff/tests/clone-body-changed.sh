#!/bin/bash
# A fix inside a clone that leaves its arguments alone: the callers' bytes are equal, but they
# are patched too, so that they call the new copy (the kernel's copy is never replaced in place:
# nothing can prove the convention unchanged). A caller that livepatch cannot replace refuses.
. "$(dirname "$0")/common.sh"
write_clone_orig
sed 's/log_reject(r->len);/log_reject(r->len - 1);/' "$T/orig.c" > "$T/patched.c"
build_plain
expect_isra_clone orig
run_diff
expect_exit 0
expect_json '.changed' '["resubmit","submit"]'
expect_json '.new' '["check_len.isra.0"]'
expect_json '.clones[0].callers' '["resubmit","submit"]'
expect_linkable

# The same fix with a notrace caller: it would keep calling the old clone. Refused, naming it.
echo 'int __attribute__((no_instrument_function)) quiet(struct req *r) { return check_len(r); }' >> "$T/orig.c"
sed 's/log_reject(r->len);/log_reject(r->len - 1);/' "$T/orig.c" > "$T/patched.c"
build_plain
run_diff
expect_exit 3
expect_refused check_len.isra.0 "this caller cannot be patched: quiet (it has no 'call __fentry__'"
pass
