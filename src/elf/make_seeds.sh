#!/bin/sh
# make_seeds.sh DIR: seed corpus for elf_reader_fuzz, generated (never committed): a few
# relocatable objects compiled from C here, plus truncated and corrupted copies of one.
set -eu
dir=$1
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/a.c" <<'C'
static int counter;
const char *greet(int x) { counter += x; return x ? "hello" : "world"; }
int use(int y) { static int calls; calls++; return y * counter + calls; }
C
cat > "$tmp/b.c" <<'C'
struct s { int a; long b; } table[4] = { {1, 2}, {3, 4} };
__attribute__((weak)) int weakfn(void) { return table[1].a; }
C
cc -c -O2 -ffunction-sections -fdata-sections -o "$dir/a.o" "$tmp/a.c"
cc -c -O2 -g -o "$dir/b.o" "$tmp/b.c"
cc -c -O0 -pg -mfentry -o "$dir/c.o" "$tmp/a.c"
head -c 64 "$dir/a.o" > "$dir/header-only.o"
head -c 700 "$dir/a.o" > "$dir/truncated.o"
printf 'not an elf file' > "$dir/text.o"
touch "$dir/stamp"
