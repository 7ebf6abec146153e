#!/usr/bin/env python3
"""source-delta: the files that differ between two kernel source tarballs, without unpacking them.

    source-delta.py FROM.deb TO.deb OUT_DIR MAX_FILES

Used by scripts/debian-fix. A Debian linux-source package holds one tarball of the whole tree
(about 75,000 files, 1.3 GB unpacked). Unpacking both versions to disk and running `diff -r`
over 2.6 GB took 1-4 minutes per fix; a security update changes a handful of files. Instead,
each tarball is read once as a stream (dpkg-deb | tar -xO | xz, never written out):

  1. FROM: the SHA-256 of every regular file, by path;
  2. TO: every file that is new or whose hash differs is written to OUT_DIR/to/PATH; paths of
     FROM not seen in TO were removed. More than MAX_FILES differing files stops here (exit 3:
     a stable release, not one fix), without reading the rest;
  3. FROM again, only to write the differing files' old contents to OUT_DIR/from/PATH.

debian-fix then runs `diff -ruN from to` on these small trees, so the patch is exactly what a
diff of the full trees gives (identical files produce no output in either). Symlinks and
directories are not compared (no Debian security update changes them; a changed symlink would
show as no difference). Prints one line per step to stderr. Exit: 0, 1 error, 3 too many files.
"""
import hashlib
import os
import subprocess
import sys
import tarfile


def tar_stream(deb):
    """The source tarball inside DEB, as a pipeline of processes whose stdout is the tar stream."""
    listed = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True)
    if listed.returncode != 0:
        sys.exit(f"source-delta: {deb} is not a readable package ({listed.stderr.strip()[:200]}; "
                 "a truncated download?); delete the .deb and run again")
    listing = listed.stdout
    names = [w for line in listing.splitlines() for w in line.split()
             if w.startswith("./usr/src/linux-source-") and w.endswith(".tar.xz")]
    if not names:
        sys.exit(f"source-delta: {deb} holds no ./usr/src/linux-source-*.tar.xz")
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    inner = subprocess.Popen(["tar", "-xO", names[0]], stdin=fsys.stdout, stdout=subprocess.PIPE)
    fsys.stdout.close()
    unxz = subprocess.Popen(["xz", "-dc"], stdin=inner.stdout, stdout=subprocess.PIPE)
    inner.stdout.close()
    return [fsys, inner, unxz], unxz.stdout


def members(deb):
    """(path without the top folder, file object) for every regular file of DEB's tarball."""
    procs, stream = tar_stream(deb)
    complete = False
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for m in tar:
                if not m.isreg():
                    continue
                path = m.name.split("/", 1)[1] if "/" in m.name else m.name
                if path.startswith("/") or ".." in path.split("/"):
                    sys.exit(f"source-delta: {deb}: unsafe path {m.name!r} in the source tarball")
                yield path, m.mtime, tar.extractfile(m)
        while stream.read(1 << 20):  # the tar's end padding: read to EOF so every stage exits 0
            pass
        complete = True
    except tarfile.TarError as e:
        sys.exit(f"source-delta: {deb}: the source tarball is damaged ({e}); delete the .deb and run again")
    finally:
        stream.close()
        for p in procs:
            if not complete and p.poll() is None:
                p.kill()  # stopped early (too many files, an error): the rest is not wanted
            p.wait()
    if complete and any(p.returncode != 0 for p in procs):
        codes = ", ".join(f"{p.args[0]} {p.returncode}" for p in procs)
        sys.exit(f"source-delta: {deb}: unpacking failed ({codes}; a truncated download?); delete the .deb and run again")


def write(root, path, mtime, data):
    """PATH under ROOT with the tarball's mtime, so diff's headers are those of a full unpack."""
    dest = os.path.join(root, path)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(data)
    os.utime(dest, (mtime, mtime))


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: source-delta.py FROM.deb TO.deb OUT_DIR MAX_FILES")
    old_deb, new_deb, out, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    say = lambda s: print(f"debian-fix: {s}", file=sys.stderr, flush=True)

    say("reading the old source (stream, about 20 s)")
    old = {path: hashlib.sha256(f.read()).digest() for path, _, f in members(old_deb)}
    say(f"  {len(old)} files; reading the new source")
    changed, seen = [], set()
    for path, mtime, f in members(new_deb):
        seen.add(path)
        data = f.read()
        if old.get(path) != hashlib.sha256(data).digest():
            changed.append(path)
            if len(changed) > limit:
                print(f"debian-fix: the two versions differ in more than {limit} files: a stable release, "
                      "not one security fix; it cannot be built as one livepatch (give the single fix as a patch)",
                      file=sys.stderr)
                sys.exit(3)
            write(os.path.join(out, "to"), path, mtime, data)
    changed += [p for p in old if p not in seen]
    if len(changed) > limit:
        print(f"debian-fix: the two versions differ in {len(changed)} files, more than {limit}: a stable "
              "release, not one security fix", file=sys.stderr)
        sys.exit(3)
    os.makedirs(os.path.join(out, "from"), exist_ok=True)
    os.makedirs(os.path.join(out, "to"), exist_ok=True)
    if not changed:
        return
    say(f"  {len(changed)} file(s) differ; reading their old contents")
    wanted = set(changed)
    for path, mtime, f in members(old_deb):
        if path in wanted:
            write(os.path.join(out, "from"), path, mtime, f.read())


if __name__ == "__main__":
    main()
