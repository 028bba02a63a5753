#!/bin/sh
# Installs the Debian packages that lincomp's build, demo and tests use, when
# missing. As root it runs apt-get; otherwise it prints the command to run.
# When everything is there it runs one dpkg-query and prints nothing.
# Usage: scripts/setup.sh [build|demo|test|fresh]
#   build  compiler, libraries, the ONNX schema and protoc-c (make)
#   demo   build + the Fashion-MNIST data package (make demo)
#   test   demo + what tests/ runs: node and npm (ONNX Runtime from npm),
#          groff (renders the man page), readelf, Python's onnx
#          and numpy (real_clients.sh, compress.sh), rsvg-convert (charts),
#          gfortran (libgfortran: a static link with OpenBLAS needs it),
#          pytest (python.sh runs python/tests)
#   fresh  debootstrap, for make check-fresh only
set -e
build="gcc libc6-dev make pkg-config libopenblas-dev liblapacke-dev
       libprotobuf-c-dev protobuf-c-compiler libonnx-dev zlib1g-dev
       libcjson-dev libcsv-dev libglpk-dev"
case ${1:-build} in
build) pkgs=$build ;;
demo) pkgs="$build dataset-fashion-mnist" ;;
test) pkgs="$build dataset-fashion-mnist nodejs npm ca-certificates groff-base
            binutils python3 python3-onnx python3-numpy python3-pytest librsvg2-bin gfortran" ;;
fresh) pkgs="debootstrap debian-archive-keyring" ;;
*) echo "usage: scripts/setup.sh [build|demo|test|fresh]" >&2; exit 2 ;;
esac

# One query for all: "|name:status" per known package; unknown ones are
# reported on stderr and simply do not appear.
have="|$(dpkg-query -W -f='${Package}:${db:Status-Abbrev}|' $pkgs 2>/dev/null || true)"
missing=""
for p in $pkgs; do
    case $have in *"|$p:ii "*) continue ;; esac
    # node and npm may come from another source (nodesource's nodejs bundles
    # npm and conflicts with Debian's): a working binary is enough
    case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
update() {
    apt-get update -q >"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "setup: apt-get update failed" >&2; exit 1; }
}
# Empty package lists (a new system, or a cleaned image) know no package:
# fetch them first. Stale lists show as a failed download: fetch and retry.
updated=no
if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep '_Packages')" ] ||
    apt-cache policy $missing 2>/dev/null | grep -q 'Candidate: (none)' ||
    [ "$(apt-cache policy $missing 2>/dev/null | grep -c '^[^ ]')" -lt "$(echo $missing | wc -w)" ]; then
    update
    updated=yes
fi
install() { apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1; }
if ! install; then
    [ $updated = no ] && update && install || {
        tail -n 20 "$log" >&2
        echo "setup: apt-get install failed" >&2
        exit 1
    }
fi
