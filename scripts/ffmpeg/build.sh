#!/usr/bin/env bash
# Builds the FFmpeg that framecodec ships, statically, from Debian's source packages (sources.txt), into
#   ${XDG_CACHE_HOME:-~/.cache}/framecodec/ffmpeg-<hash>
# and prints that prefix as the last line of stdout (progress goes to stderr):
#   prefix=$(bash scripts/ffmpeg/build.sh | tail -1)
# <hash> covers this folder's files, the C compiler's version and the machine type: a finished prefix
# (marker file .framecodec-complete) is reused at once; a change here builds a new one. A run that failed
# resumes at the library that failed. Logs: <cache>/work-<hash>/logs/<library>.log (the failing one's tail
# is printed). Timings: <prefix>/share/framecodec/build-times.txt.
#
# What is inside (static, PIC, --disable-autodetect, nothing that is not named here):
#   libraries  x264 (8+10 bit), x265 (8+10+12 bit, libstdc++ linked statically), libvpx (VP8/VP9 encoders,
#              high bit depth), SVT-AV1 (encoder), opus, lame, nv-codec-headers (NVENC and CUDA load the
#              NVIDIA driver at run time: no library is linked for them)
#   FFmpeg     libavcodec, libavformat, libavutil, libswscale, libswresample; no programs, no avfilter,
#              avdevice or postproc, no network, no hwaccel decoders; the components listed below.
# <prefix>/share/framecodec/manifest.json names each library with its upstream and Debian version and
# licence, and FFmpeg's configure line (the prefix written as $PREFIX); the whole is GPL-2.0-or-later.
#
# Needs: the Debian archive (deb.debian.org) reachable through apt, gcc/g++, make, nasm, cmake, pkg-config
# (installed with apt-get when missing, through sudo when not root). Environment: FRAMECODEC_JOBS (make
# -j, default nproc), XDG_CACHE_HOME.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/framecodec"
jobs="${FRAMECODEC_JOBS:-$(nproc)}"
suite="trixie"

say() { echo "ffmpeg-build: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- the build's identity ----------------------------------------------------------------------------
toolchain="$(uname -m); $( (cc --version 2>/dev/null || echo no-cc) | head -1)"
hash="$( {
  for f in $(cd "$here" && LC_ALL=C ls); do
    printf '%s\n' "$f"
    cat "$here/$f"
  done
  printf '%s\n' "$toolchain"
} | sha256sum | cut -c1-16)"
prefix="$cache/ffmpeg-$hash"
marker="$prefix/.framecodec-complete"
if [ -f "$marker" ]; then
  echo "$prefix"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock-$hash"
if ! flock -n 9; then
  say "another build of $prefix is running; waiting for it"
  flock 9
fi
if [ -f "$marker" ]; then
  echo "$prefix"
  exit 0
fi

work="$cache/work-$hash"
downloads="$cache/downloads" # shared by all builds: apt checks each file against the signed index
mkdir -p "$work/logs" "$work/stamps" "$work/src" "$work/build" "$downloads" "$prefix/lib/pkgconfig"
say "building into $prefix (logs: $work/logs; make -j$jobs)"

# --- tools ----------------------------------------------------------------------------------------
missing=()
for tool in cc:gcc c++:g++ make:make nasm:nasm cmake:cmake pkg-config:pkg-config xz:xz-utils patch:patch flock:util-linux; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the pinned sources ---------------------------------------------------------------------------
declare -a names=()
declare -A debver=() upver=() licence=() patches=()
while read -r name dv uv lic pat; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  names+=("$name")
  debver[$name]="$dv"
  upver[$name]="$uv"
  licence[$name]="$lic"
  patches[$name]="$pat"
done <"$here/sources.txt"

# A Debian version without its epoch and revision, as in the orig tarball's name.
orig_version() {
  local v="${1#*:}"
  echo "${v%-*}"
}
orig_tarball() {
  local f
  for f in "$downloads/${1}_$(orig_version "${debver[$1]}").orig.tar."*; do
    case "$f" in *.asc) ;; *) [ -f "$f" ] && echo "$f" && return ;; esac
  done
}
debian_tarball() {
  local f="$downloads/${1}_${debver[$1]#*:}.debian.tar.xz"
  [ -f "$f" ] && echo "$f"
}

# Runs a step with its output in logs/<step>.log; on failure prints the log's tail and stops.
declare -a timings=()
step() {
  local name="$1"
  shift
  if [ -f "$work/stamps/$name" ]; then
    timings+=("$(cat "$work/stamps/$name")")
    return
  fi
  local log="$work/logs/$name.log" start=$SECONDS status
  say "$name ..."
  # Not `if ! (...)`: bash ignores set -e inside a command whose status is tested, so a failing make
  # would go unnoticed until the step's last command.
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    say "$name FAILED; the end of $log:"
    tail -n 40 "$log" >&2
    exit 1
  fi
  local line
  line="$(printf '%-18s %4d s' "$name" $((SECONDS - start)))"
  say "$line"
  timings+=("$line")
  echo "$line" >"$work/stamps/$name"
}

# --- download: apt with its own sources.list, lists and cache (the machine's apt config is untouched) ---
download() {
  local apt_dir="$cache/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb-src http://deb.debian.org/debian $suite main" >"$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Get::Only-Source=true)
  [ "$(id -u)" -ne 0 ] || opts+=(-o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update
  cd "$downloads"
  local name
  for name in "${names[@]}"; do
    # The registry serves only some packages' .dsc / .debian.tar.xz: apt-get then fails for those files
    # but has fetched (and checked) the rest; what each package needs is checked below.
    apt-get "${opts[@]}" source --download-only "$name=${debver[$name]}" || true
    [ -n "$(orig_tarball "$name")" ] || die "no orig tarball of $name ${debver[$name]} was downloaded"
    if [ "${patches[$name]}" = series ]; then
      [ -n "$(debian_tarball "$name")" ] || die "no .debian.tar.xz of $name ${debver[$name]} was downloaded"
    fi
  done
}

# Unpacks a package into src/<name> (fresh), with Debian's patch series applied when sources.txt says so.
unpack() {
  local name="$1" dir="$work/src/$1"
  rm -rf "$dir" "$work/debian-$name"
  mkdir -p "$dir"
  tar -xf "$(orig_tarball "$name")" -C "$dir" --strip-components=1
  if [ "${patches[$name]}" = series ]; then
    mkdir -p "$work/debian-$name"
    tar -xf "$(debian_tarball "$name")" -C "$work/debian-$name"
    local p
    for p in $(patch_series "$name"); do
      echo "applying debian/patches/$p"
      patch -d "$dir" -p1 --batch --forward <"$work/debian-$name/debian/patches/$p"
    done
  fi
}

# The names in a package's debian/patches/series, in order.
patch_series() {
  tar -xOf "$(debian_tarball "$1")" debian/patches/series | sed -e 's/#.*//' | awk 'NF { print $1 }'
}

# Only this prefix's .pc files are seen: nothing from the system's -dev packages can be picked up.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig"

build_nv_codec_headers() {
  unpack nv-codec-headers
  make -C "$work/src/nv-codec-headers" PREFIX="$prefix" LIBDIR=lib install
}

build_x264() {
  unpack x264
  cd "$work/src/x264"
  ./configure --prefix="$prefix" --enable-static --enable-pic --disable-cli --disable-opencl \
    --disable-avs --disable-swscale --disable-lavf --disable-ffms --disable-gpac --disable-lsmash
  make -j"$jobs"
  make install-lib-static
}

# x265: three builds of one library (12-bit, 10-bit, then 8-bit linking both), merged into one
# libx265.a, as Debian's multilib package and x265's own multilib.sh do.
build_x265() {
  unpack x265
  local src="$work/src/x265/source" b="$work/build/x265"
  rm -rf "$b"
  local common=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
    -DENABLE_SHARED=OFF -DENABLE_CLI=OFF -DENABLE_PIC=ON -DENABLE_LIBNUMA=OFF -DENABLE_TESTS=OFF)
  cmake -S "$src" -B "$b/12" "${common[@]}" -DHIGH_BIT_DEPTH=ON -DMAIN12=ON -DEXPORT_C_API=OFF
  cmake --build "$b/12" -j"$jobs"
  cmake -S "$src" -B "$b/10" "${common[@]}" -DHIGH_BIT_DEPTH=ON -DEXPORT_C_API=OFF
  cmake --build "$b/10" -j"$jobs"
  mkdir -p "$b/8"
  cp "$b/12/libx265.a" "$b/8/libx265_main12.a"
  cp "$b/10/libx265.a" "$b/8/libx265_main10.a"
  cmake -S "$src" -B "$b/8" "${common[@]}" -DEXTRA_LIB="x265_main10.a;x265_main12.a" -DEXTRA_LINK_FLAGS=-L. \
    -DLINKED_10BIT=ON -DLINKED_12BIT=ON
  cmake --build "$b/8" -j"$jobs"
  cd "$b/8"
  mv libx265.a libx265_main.a
  printf 'CREATE libx265.a\nADDLIB libx265_main.a\nADDLIB libx265_main10.a\nADDLIB libx265_main12.a\nSAVE\nEND\n' | ar -M
  cmake --install "$b/8"
  # x265 is C++: gcc's static libstdc++ beside it, so that the addon links it in (x265.pc lists -lstdc++)
  # and needs no libstdc++.so at run time.
  cp "$(c++ -print-file-name=libstdc++.a)" "$prefix/lib/libstdc++.a"
}

build_libvpx() {
  unpack libvpx
  mkdir -p "$work/build/libvpx"
  cd "$work/build/libvpx"
  "$work/src/libvpx/configure" --prefix="$prefix" --enable-static --disable-shared --enable-pic \
    --disable-examples --disable-tools --disable-docs --disable-unit-tests --disable-install-bins \
    --enable-vp8 --enable-vp9 --enable-vp9-highbitdepth --disable-vp8-decoder --disable-vp9-decoder --as=nasm
  make -j"$jobs"
  make install
}

build_svt_av1() {
  unpack svt-av1
  cmake -S "$work/src/svt-av1" -B "$work/build/svt-av1" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF -DBUILD_APPS=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DSVT_AV1_LTO=OFF -DREPRODUCIBLE_BUILDS=ON
  cmake --build "$work/build/svt-av1" -j"$jobs"
  cmake --install "$work/build/svt-av1"
}

build_opus() {
  unpack opus
  cd "$work/src/opus"
  ./configure --prefix="$prefix" --disable-shared --enable-static --with-pic --disable-maintainer-mode \
    --disable-doc --disable-extra-programs --disable-dred --disable-deep-plc --disable-osce
  make -j"$jobs"
  make install
}

# lame's Debian patches that touch configure.in / Makefile.am (lame.pc, -msse) need autoreconf, which
# this build does not run (lame's build uses AM_MAINTAINER_MODE): only their source changes take effect.
build_lame() {
  unpack lame
  cd "$work/src/lame"
  ./configure --prefix="$prefix" --disable-shared --enable-static --with-pic --disable-frontend \
    --disable-decoder --disable-gtktest --disable-analyzer-hooks
  make -j"$jobs"
  make install
}

# FFmpeg: --disable-everything, then each component by name.
#   Encoders: the product's video encoders, and the audio ones for the audio track to come.
#   Muxers: containers written to one output through framecodec's own AVIO (never a URL or a second file:
#     no hls, dash, segment, image2, tee, fifo, ...), the raw streams of our codecs, and audio containers
#     (tgp and tg2 are FFmpeg's names of the 3gp and 3g2 muxers).
#   Bitstream filters: those the muxers insert for our codecs (configure also selects what each needs).
#   Decoders, demuxers, parsers and the `file` protocol are for the tests only: the Rust core tests
#     (cargo test, src/core/tests.rs `decode_frames`) open what they encoded with format::input(path) and
#     decode it in-process: H.264 in Matroska and MP4, and GIF (whose demuxer needs the gif parser). The product never opens anything through
#     FFmpeg: every output is written through custom AVIO (src/core/sink), faststart's second pass is
#     answered by our own io_open (src/core/mux/read_back.rs), and destinations are opened by Rust code
#     (src/core/sink/destination.rs); so no protocol is reachable from the API, and --disable-network
#     removes every network one. (The JS tests decode with the system's ffmpeg CLI.)
ff_encoders=(libx264 libx264rgb libx265 libvpx_vp8 libvpx_vp9 libsvtav1 h264_nvenc hevc_nvenc av1_nvenc
  mpeg4 mpeg2video flv ffv1 gif mjpeg rawvideo
  aac libopus libmp3lame flac pcm_s16le pcm_s24le pcm_f32le)
ff_muxers=(mp4 mov ipod tgp tg2 psp ismv f4v matroska webm avi flv gif mpegts nut ogg ivf obu h264 hevc m4v
  mjpeg rawvideo adts mp3 opus flac wav)
ff_bsfs=(h264_mp4toannexb hevc_mp4toannexb aac_adtstoasc extract_extradata vp9_superframe av1_frame_merge)
ff_test_only=(--enable-decoder=h264,gif --enable-demuxer=matroska,mov,gif --enable-parser=h264,gif --enable-protocol=file)

join() {
  local IFS=,
  echo "$*"
}

ffmpeg_configure_args() {
  local p="$1"
  echo --prefix="$p" --pkg-config-flags=--static --extra-cflags=-I"$p"/include --extra-ldflags=-L"$p"/lib \
    --enable-gpl --enable-static --disable-shared --enable-pic --disable-debug \
    --disable-autodetect --disable-programs --disable-doc --disable-network \
    --disable-avdevice --disable-avfilter --disable-postproc --disable-everything \
    --enable-swscale --enable-swresample \
    --enable-libx264 --enable-libx265 --enable-libvpx --enable-libsvtav1 --enable-libopus --enable-libmp3lame \
    --enable-ffnvcodec --enable-nvenc --enable-cuda \
    --enable-encoder="$(join "${ff_encoders[@]}")" --enable-muxer="$(join "${ff_muxers[@]}")" \
    --enable-bsf="$(join "${ff_bsfs[@]}")" "${ff_test_only[@]}"
}

build_ffmpeg() {
  unpack ffmpeg
  mkdir -p "$work/build/ffmpeg"
  cd "$work/build/ffmpeg"
  # shellcheck disable=SC2046 # the arguments hold no spaces
  "$work/src/ffmpeg/configure" $(ffmpeg_configure_args "$prefix")
  make -j"$jobs"
  make install
}

json_string() {
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

write_manifest() {
  local dir="$prefix/share/framecodec" name sep=""
  mkdir -p "$dir"
  {
    printf '{\n  "ffmpeg": { "version": %s, "debian": %s, "license": %s },\n  "libraries": [\n' \
      "$(json_string "${upver[ffmpeg]}")" "$(json_string "${debver[ffmpeg]}")" "$(json_string "${licence[ffmpeg]}")"
    for name in "${names[@]}"; do
      [ "$name" = ffmpeg ] && continue
      local applied="[]"
      if [ "${patches[$name]}" = series ]; then
        applied="[$(patch_series "$name" | awk '{printf "%s\"%s\"", (NR>1?", ":""), $1}')]"
      fi
      printf '%s    { "name": %s, "version": %s, "debian": %s, "license": %s, "debian_patches": %s }' "$sep" \
        "$(json_string "$name")" "$(json_string "${upver[$name]}")" "$(json_string "${debver[$name]}")" \
        "$(json_string "${licence[$name]}")" "$applied"
      sep=$',\n'
    done
    printf '\n  ],\n  "configure": %s,\n' "$(json_string "$(ffmpeg_configure_args '$PREFIX')")"
    printf '  "source": %s,\n  "license": "GPL-2.0-or-later"\n}\n' "$(json_string "Debian source packages, suite $suite")"
  } >"$dir/manifest.json"
  printf '%s\n' "${timings[@]}" >"$dir/build-times.txt"
  echo "toolchain: $toolchain" >>"$dir/build-times.txt"
}

start=$SECONDS
step download download
step nv-codec-headers build_nv_codec_headers
step x264 build_x264
step x265 build_x265
step libvpx build_libvpx
step svt-av1 build_svt_av1
step opus build_opus
step lame build_lame
step ffmpeg build_ffmpeg
timings+=("$(printf '%-18s %4d s (this run)' total $((SECONDS - start)))")
write_manifest
# Sources and build trees are not needed once installed; the logs stay.
rm -rf "$work/src" "$work/build" "$work"/debian-*
touch "$marker"
say "done: $prefix"
printf '%s\n' "${timings[@]}" | sed 's/^/ffmpeg-build:   /' >&2
echo "$prefix"
