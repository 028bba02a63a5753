#!/bin/sh
# Installs the Debian packages lincomp builds and tests with, when missing.
# As root it runs apt-get; otherwise it prints the command to run.
# Usage: scripts/setup.sh [build|test]
set -e
pkgs="gcc make pkg-config libopenblas-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev zlib1g-dev libcjson-dev libcsv-dev libglpk-dev"
if [ "${1:-build}" = test ]; then
    # ONNX Runtime comes from npm (tests/tools); node and npm from Debian
    pkgs="$pkgs nodejs npm"
fi
if [ "${1:-build}" = demo ]; then
    pkgs="$pkgs dataset-fashion-mnist"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
        # node/npm may come from elsewhere (e.g. nodesource); accept a working binary
        case $p in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
        missing="$missing $p"
    }
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "setup: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
else
    echo "setup: missing Debian packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    exit 1
fi
