#!/usr/bin/env bash
# The proof that `npm install framecodec` works on a machine with Node and nothing else (design §5,
# issue 11): the two release tarballs are installed offline into a fresh app inside a clean Debian root
# filesystem that holds Node (copied from this machine) and no FFmpeg or codec library at all, and used
# there the ways apps use them (scripts/install-check/inside.sh); the videos it encodes there are then
# decoded here, with this machine's ffprobe, and their codec, size and frame count checked.
#
# Why a chroot into a real Debian root filesystem rather than hiding this machine's FFmpeg: a root
# filesystem made by mmdebstrap from Debian's registry holds what a bare machine holds — glibc, libstdc++,
# coreutils — and nothing that happens to be installed here (FFmpeg, its codec libraries, compilers,
# pkg-config): a library the binary needs and we forgot to hide cannot slip through. It runs in a private
# mount namespace (unshare -m: /proc, /dev and the results directory bound in; every mount disappears
# with the namespace, even when a step fails or the script is killed) and a network namespace of its own
# (unshare -n: npm cannot reach the registry, so the install is provably offline). That needs root (or
# sudo) and the registry's mirror once; a mount namespace hiding this machine's FFmpeg would be the
# fallback where those are missing — not needed on Debian/Ubuntu CI machines, where this runs as is.
#
# Why a step of `npm test` of its own and not an ava spec: it runs for minutes on a cold machine (making
# the root filesystem), as root, one at a time, and should not share the 2 CPUs with ava's concurrent
# test files nor live under ava's 3-minute timeout.
#
# Cached under ${XDG_CACHE_HOME:-~/.cache}/framecodec: the root filesystem (a tarball named after a hash
# of its recipe: a new recipe makes a new one) and the npm cache holding the test tools. Cold: about a
# minute for mmdebstrap (network-bound); warm: the root filesystem is unpacked afresh in a few seconds.
#
#   scripts/install-check/run.sh [--no-require-static] [--out DIR] [--keep]
#
#   --no-require-static  pack the binary as built even if it links the system FFmpeg (development: shows
#                        what a user without FFmpeg gets from such a build — it must FAIL);
#   --out DIR            where the tarballs, the encoded videos and the log go (default dist/install-check);
#   --keep               keep the unpacked root filesystem (under DIR) for a look inside.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

if [ "$(id -u)" -ne 0 ]; then
  # chroot and namespaces need root. Through env rather than sudo's --preserve-env, which secure_path
  # overrides: the user's PATH (its node and npm are the ones copied in) and cache stay the same.
  exec sudo env "PATH=$PATH" "HOME=$HOME" ${XDG_CACHE_HOME:+"XDG_CACHE_HOME=$XDG_CACHE_HOME"} bash "$0" "$@"
fi

require_static=--require-static
out=$ROOT/dist/install-check
keep=no
while (($#)); do
  case $1 in
    --no-require-static) require_static="" ;;
    --out) out=$(realpath -m "$2"); shift ;;
    --keep) keep=yes ;;
    *) echo "install-check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# The test tools installed beside framecodec in the app: exact versions, so that the npm cache made once
# satisfies every later run offline.
TEST_DEPS="jest@30.5.2 ava@7.0.0 typescript@5.9.3 @types/node@20.19.43"
# What the root filesystem is: Debian 12 (glibc 2.36, the oldest Debian above the binary's glibc floor),
# the minbase variant (Essential packages and apt), plus libstdc++6 for Node; no docs, man pages or
# locales. Any change here is a new recipe, hence a new cache entry.
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
MMDEBSTRAP_ARGS=(--variant=minbase --include=libstdc++6 --mode=root
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*')
recipe="install-check rootfs v1: mmdebstrap ${MMDEBSTRAP_ARGS[*]} $SUITE $MIRROR"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/framecodec
rootfs_tar=$cache/rootfs-$(printf '%s' "$recipe" | sha256sum | cut -c1-16).tar
npm_cache=$cache/npm-cache

t0=$(date +%s.%N)
since() { awk -v from="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f s", now - from }'; }
say() { echo "install-check: $*"; }

rm -rf "$out"
mkdir -p "$out/pkgs" "$out/results"
# Everything else goes into a scratch directory, removed on exit — but only once nothing is mounted
# under it: rm -rf across a bind mount of /dev would empty this machine's /dev.
work=$(mktemp -d /tmp/framecodec-install-check.XXXXXX)
chroot_dir=$work/root
cleanup() {
  if grep -qF " $work/" /proc/self/mountinfo; then
    echo "install-check: something is still mounted under $work; not removing it:" >&2
    grep -F " $work/" /proc/self/mountinfo >&2
    return
  fi
  if [ "$keep" = yes ] && [ -d "$chroot_dir" ]; then
    rm -rf "$out/root" && mv "$chroot_dir" "$out/root" && say "the root filesystem is kept in $out/root"
  fi
  rm -rf --one-file-system "$work"
  # Run through sudo: what it leaves in the repository and the user's cache belongs to the user.
  if [ -n "${SUDO_UID:-}" ]; then
    chown -R "$SUDO_UID:$SUDO_GID" "$out" "$rootfs_tar" "$npm_cache" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ 1. the two tarballs
t=$(date +%s.%N)
if ! packed=$(node scripts/pack.mjs --no-build $require_static --out "$out/pkgs"); then
  say "FAIL pack: scripts/pack.mjs $require_static refused the binary (see above)${require_static:+: the install check needs the static release build}"
  exit 1
fi
node -e 'const p = JSON.parse(process.argv[1]); for (const t of p.tarballs) console.log(`install-check: ${require("path").basename(t)}: ${require("fs").statSync(t).size} bytes`); console.log(`install-check: the binary needs ${p.needed.join(" ")}; FFmpeg ${p.versions.ffmpeg} (${p.versions.ffmpegBuild})`)' "$packed"
say "packed in $(since "$t")"

# ------------------------------------------------------------------ 2. the root filesystem (cached)
t=$(date +%s.%N)
if [ -f "$rootfs_tar" ]; then
  say "root filesystem: cached $rootfs_tar"
else
  command -v mmdebstrap >/dev/null || { say "FAIL: mmdebstrap is not installed (scripts/setup.sh installs it)"; exit 1; }
  say "root filesystem: mmdebstrap $SUITE from $MIRROR (once; cached as $rootfs_tar)"
  mkdir -p "$cache"
  find "$cache" -maxdepth 1 -name 'rootfs-*.tar.tmp-*' -mmin +120 -delete # left by killed runs
  # Written to a temporary name and renamed: an interrupted run leaves no half tarball in the cache.
  nice mmdebstrap "${MMDEBSTRAP_ARGS[@]}" --format=tar --quiet "$SUITE" "$rootfs_tar.tmp-$$" "$MIRROR"
  mv "$rootfs_tar.tmp-$$" "$rootfs_tar"
  say "root filesystem made in $(since "$t"): $(du -m "$rootfs_tar" | cut -f1) MiB"
fi
t=$(date +%s.%N)
mkdir "$chroot_dir"
tar -C "$chroot_dir" -xf "$rootfs_tar"
# Node and npm: this machine's, as a user has them (the official binary needs libc and libstdc++ only).
node_bin=$(node -p process.execPath)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || { say "FAIL: cannot find npm's directory (from $(command -v npm))"; exit 1; }
install -m 755 "$node_bin" "$chroot_dir/usr/local/bin/node"
mkdir -p "$chroot_dir/usr/local/lib/node_modules"
cp -a "$npm_dir" "$chroot_dir/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$chroot_dir/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$chroot_dir/usr/local/bin/npx"
mkdir -p "$chroot_dir/check" "$chroot_dir/pkgs" "$chroot_dir/results" "$chroot_dir/npm-cache"
cp -a scripts/install-check/inside.sh scripts/install-check/app "$chroot_dir/check/"
cp "$out"/pkgs/*.tgz "$chroot_dir/pkgs/"
say "root filesystem unpacked, Node $(node --version) and npm $(npm --version) copied in, in $(since "$t"): $(du -sm "$chroot_dir" | cut -f1) MiB"

# ------------------------------------------------------------------ 3. the npm cache (cached)
# The test tools and everything they depend on, fetched here from the registry once; inside, npm runs
# with --offline against this cache, in a namespace without network.
t=$(date +%s.%N)
stamp=$npm_cache/.framecodec-$(printf '%s' "$TEST_DEPS" | sha256sum | cut -c1-16)
if [ -f "$stamp" ]; then
  say "npm cache: cached $npm_cache"
else
  scratch=$work/npm-fetch
  mkdir -p "$scratch"
  echo '{ "private": true }' >"$scratch/package.json"
  # shellcheck disable=SC2086
  (cd "$scratch" && npm install --cache "$npm_cache" --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error $TEST_DEPS)
  touch "$stamp"
  say "npm cache filled in $(since "$t"): $(du -sm "$npm_cache" | cut -f1) MiB"
fi

# A copy, not a bind mount: npm writes into its cache even offline (its temporary files), and the app
# must not change this machine's cache.
cp -a "$npm_cache/." "$chroot_dir/npm-cache/"

# ------------------------------------------------------------------ 4. inside: chroot, no network
t=$(date +%s.%N)
say "entering the root filesystem (unshare --mount --net, chroot)"
# In the background, so that an interrupt stops it at once: bash runs a trap only once the foreground
# command is done, and timeout (which signals the whole chroot's process group) is in a group of its
# own that a Ctrl-C does not reach.
: >"$out/inside.log"
timeout --kill-after=10 1200 unshare --mount --net --propagation private -- bash -euo pipefail -c '
  root=$1
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --bind "$2" "$root/results"
  exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
    TEST_DEPS="$3" npm_config_update_notifier=false npm_config_logs_dir=/tmp/npm-logs CI=true bash /check/inside.sh
' inside "$chroot_dir" "$out/results" "$TEST_DEPS" >"$out/inside.log" 2>&1 &
inside=$!
trap 'kill -TERM "$inside" 2>/dev/null || true; wait "$inside" || true; say "interrupted"; exit 130' INT TERM
tail -n +1 -f --pid="$inside" "$out/inside.log" &
status=0
wait "$inside" || status=$?
wait $! # tail: what is left of the log
trap - INT TERM
say "inside: $(since "$t")"
if [ "$status" -ne 0 ]; then
  echo
  load_error=$(grep -m1 "^install-check: FAIL require:" "$out/inside.log" || true)
  if [ -n "$load_error" ]; then
    say "FAIL: framecodec does not load on a machine with Node and no FFmpeg:"
    echo "  ${load_error#install-check: FAIL require: }"
    grep -E '^\s+\S+ => not found' "$out/inside.log" | sed 's/^\s*/  missing: /' || true
  else
    say "FAIL inside the clean root filesystem (exit $status): $(grep '^install-check: FAIL' "$out/inside.log" | tr '\n' ' ')"
  fi
  say "log: $out/inside.log (total $(since "$t0"))"
  exit 1
fi

# ------------------------------------------------------------------ 5. outside: decode what was encoded
t=$(date +%s.%N)
say "decoding the outputs with this machine's ffprobe"
command -v ffprobe >/dev/null || { say "FAIL: ffprobe is not installed (scripts/setup.sh installs ffmpeg)"; exit 1; }
node scripts/install-check/decode.mjs "$out/results" || { say "FAIL: an output does not decode as encoded (total $(since "$t0"))"; exit 1; }
say "decoded in $(since "$t")"
say "PASS: installed offline and used on Debian $SUITE with Node and no FFmpeg; every container decodes (total $(since "$t0"))"
