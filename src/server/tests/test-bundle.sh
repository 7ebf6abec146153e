# Sourced by the server's shell tests: makes a publisher key and a signed bundle for a made-up
# kernel, at test time (never a committed binary). The module is not a real ELF object: the
# server checks signatures and hashes, never the module itself.
#
#   make_test_bundle ADMIN DIR   writes DIR/pub.key, DIR/pub.pub, DIR/nr_fix.ko,
#                                DIR/manifest.json and DIR/fix.nrp (name nr_fix, sequence 1);
#                                sets $build (the kernel's build id) and $kernel (its identity as
#                                JSON, as agents send it in enroll, check-in and report bodies)
make_test_bundle() {
  local admin=$1 dir=$2
  build=00112233445566778899aabbccddeeff00112233
  kernel='{"release":"6.1.0-56-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1","build_id":"'$build'","arch":"x86_64"}'
  "$admin" keygen "$dir/pub" >/dev/null
  printf '\177ELF not really a module' >"$dir/nr_fix.ko"
  cat >"$dir/manifest.json" <<JSON
{"name": "nr_fix", "sequence": 1, "kernel": $kernel,
 "module": {"vermagic": "6.1.0-56-amd64 SMP preempt mod_unload modversions"},
 "fixes": [{"id": "CVE-0000-0001", "description": "test"}]}
JSON
  "$admin" sign --key "$dir/pub.key" --manifest "$dir/manifest.json" --module "$dir/nr_fix.ko" \
    -o "$dir/fix.nrp" >/dev/null
}
