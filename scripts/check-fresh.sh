#!/bin/sh
# check-fresh.sh - `make check-fresh`: the README's quick start on a new
# Debian system. As root:
#   1. debootstrap --variant=minbase (bookworm) into a temporary folder, from
#      the first apt source of this machine that serves that suite;
#   2. this machine's apt sources (with the keyrings they name), its Acquire
#      and proxy settings, its dpkg settings, its CA certificates and its npm
#      configuration go in (the package registries need them here), then
#      `apt-get install gcc make` and nothing else; the package lists are
#      then emptied, as in a Debian container image, so the set-up step has
#      to fetch them itself;
#   3. a clean clone of the committed HEAD goes to /work/lincomp with a
#      read-only copy of ../shared beside it, as CI lays them out;
#   4. `make demo`, then `make test`, run there as root; each is timed, and
#      when either fails the last lines of both are shown.
# The work runs in a private mount namespace (unshare), so the mounts the
# chroot needs (/proc, /sys, /dev) are never visible outside it and vanish
# with it; they are also unmounted explicitly, and the temporary tree is
# deleted only once nothing under it is mounted - on success, failure or
# interruption alike. FRESH_SUITE picks another Debian suite; FRESH_TMP the
# folder the temporary tree goes in (default: $TMPDIR or /tmp);
# FRESH_TMPFS_SIZE the size limit of the tmpfs the new system lives in (8g).
set -u
say() { echo "check-fresh: $*"; }
die() { echo "check-fresh: $*" >&2; exit 1; }
# seconds -> "1m05s"
dur() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# the mounts below $1 in this mount namespace, deepest first
mounts_under() {
    findmnt -rn -o TARGET 2>/dev/null | awk -v p="$1" 'index($0, p "/") == 1 || $0 == p' | sort -r
}

# unmount_all DIR: unmounts everything below DIR; fails if anything stays
unmount_all() {
    for m in $(mounts_under "$1"); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
    [ -z "$(mounts_under "$1")" ]
}

# ------------------------------------------------------------ inside
# The part that runs in the private mount namespace. T, ROOT, HEAD, SHARED,
# SUITE and MIRROR come from the outer part.
inner() {
    R=$T/root L=$T/log
    mkdir -p "$R" "$L"
    trap 'unmount_all "$R" || say "could not unmount everything below $R"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # step NAME LOG CMD...: runs CMD with its output in LOG, prints the time
    step() {
        name=$1 log=$2; shift 2
        t0=$(date +%s)
        "$@" >"$log" 2>&1
        rc=$?
        secs=$(($(date +%s) - t0))
        if [ $rc -eq 0 ]; then say "$name: $(dur $secs)"
        else say "$name: FAILED (exit $rc) after $(dur $secs)"; fi
        return $rc
    }
    # in_chroot CMD: runs a shell command in the new system as root, with a
    # new login's environment (none of make's variables from out here), plus
    # this machine's locale, proxy, CA and npm variables and its OpenBLAS
    # settings (the workplace sets them on every machine of this kind)
    in_chroot() {
        set -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root "$@"
        for v in $(env | sed -n 's/^\(LANG\|LC_[A-Z]*\|[a-z]*_proxy\|[A-Z]*_PROXY\|npm_config_[A-Za-z_]*\|NODE_EXTRA_CA_CERTS\|SSL_CERT_FILE\|SSL_CERT_DIR\|OPENBLAS_CORETYPE\|OPENBLAS_L2_SIZE\)=.*/\1/p'); do
            eval "set -- \"\$@\" $v=\"\$$v\""
        done
        "$@"
    }
    # run CMD: a shell command line in the new system
    run() { cmd=$1; in_chroot chroot "$R" /bin/sh -c "$cmd"; }

    # The new system lives in memory (a tmpfs, some 2 GB by the end): dpkg
    # runs about twice as fast as on this disk, and the whole tree goes with
    # the mount namespace however this script ends. On disk when no tmpfs.
    if mount -t tmpfs -o "size=${FRESH_TMPFS_SIZE:-8g},mode=755" tmpfs "$R" 2>/dev/null; then
        where="a tmpfs"
    else
        where="disk"
    fi
    start=$(date +%s)
    step "debootstrap --variant=minbase $SUITE (on $where)" "$L/debootstrap.log" \
        debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" ||
        { tail -n 30 "$L/debootstrap.log"; exit 1; }
    t_boot=$secs

    # what the registries need on this kind of machine
    rm -f "$R/etc/apt/sources.list"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && cp "$f" "$R$f"
    done
    for k in $(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
               sed -n 's/.*[Ss]igned-[Bb]y[:=] *\(\/[^] ]*\).*/\1/p' | sort -u); do
        [ -f "$k" ] && [ ! -e "$R$k" ] && mkdir -p "$R$(dirname "$k")" && cp "$k" "$R$k"
    done
    for d in /etc/apt/trusted.gpg.d /etc/apt/keyrings; do
        [ -d "$d" ] && mkdir -p "$R$d" && cp -a "$d/." "$R$d/"
    done
    # this machine's own apt and dpkg settings (Acquire options, proxies,
    # dpkg's unsafe-io): the files no Debian package installed
    for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/* /etc/dpkg/dpkg.cfg.d/*; do
        [ -f "$f" ] && ! dpkg-query -S "$f" >/dev/null 2>&1 && cp "$f" "$R$f"
    done
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    cp -L /etc/hosts "$R/etc/hosts"
    # the CA bundle, and the local CAs it was built from, so that the bundle
    # survives the new system's update-ca-certificates
    mkdir -p "$R/etc/ssl/certs" "$R/usr/local/share/ca-certificates"
    [ -f /etc/ssl/certs/ca-certificates.crt ] && cp -L /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"
    [ -d /usr/local/share/ca-certificates ] && cp -a /usr/local/share/ca-certificates/. "$R/usr/local/share/ca-certificates/"
    # npm: the global and user configuration files and the CA file they name
    npmfiles="/etc/npmrc /usr/etc/npmrc"
    cafiles="${NODE_EXTRA_CA_CERTS:-} ${SSL_CERT_FILE:-}"
    if command -v npm >/dev/null 2>&1; then
        npmfiles="$npmfiles $(npm config get globalconfig 2>/dev/null)"
        cafiles="$cafiles $(npm config get cafile 2>/dev/null)"
    fi
    for f in $npmfiles; do
        [ -f "$f" ] && mkdir -p "$R$(dirname "$f")" && cp "$f" "$R$f"
    done
    [ -f "${HOME:-/root}/.npmrc" ] && cp "${HOME:-/root}/.npmrc" "$R/root/.npmrc"
    for f in $cafiles; do
        case $f in /*) [ -f "$f" ] && [ ! -e "$R$f" ] && mkdir -p "$R$(dirname "$f")" && cp -L "$f" "$R$f" ;; esac
    done

    # /dev is debootstrap's own device nodes plus a new devpts and shm, never
    # a bind of this machine's /dev: nothing done in the new system (a rename
    # onto /dev/null, say) can reach the real one
    mount -t proc proc "$R/proc" &&
        mount --bind /sys "$R/sys" &&
        mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" &&
        mount -t tmpfs tmpfs "$R/dev/shm" || die "mounting /proc, /sys, /dev/pts in $R failed"

    step "apt-get install gcc make" "$L/base.log" run \
        'export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get install -y gcc make &&
         apt-get clean && rm -rf /var/lib/apt/lists/*' ||
        { tail -n 30 "$L/base.log"; exit 1; }
    t_base=$secs

    # the committed HEAD, as a new user's clone, and shared/ beside it
    mkdir -p "$R/work"
    if ! { git clone -q --no-hardlinks "$ROOT" "$R/work/lincomp" &&
           git -C "$R/work/lincomp" checkout -q "$HEAD"; } >"$L/clone.log" 2>&1; then
        cat "$L/clone.log"; die "cloning $ROOT failed"
    fi
    mkdir -p "$R/work/shared" && cp -a "$SHARED/." "$R/work/shared/" || die "copying $SHARED failed"
    chmod -R a-w "$R/work/shared"
    say "clean clone of $(echo "$HEAD" | cut -c1-12) in /work/lincomp, ../shared beside it (read-only)"

    ok=yes
    step "make demo" "$L/demo.log" run 'cd /work/lincomp && make demo' || ok=no
    t_demo=$secs
    step "make test" "$L/test.log" run 'cd /work/lincomp && make test' || ok=no
    t_test=$secs
    count=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$L/test.log" | tail -n 1)
    [ -n "$count" ] && say "make test in the new system: $count"
    total=$(($(date +%s) - start))

    if [ $ok = no ]; then
        for s in demo test; do
            echo
            say "last 30 lines of make $s:"
            tail -n 30 "$L/$s.log"
        done
        echo
    fi
    say "times: debootstrap $(dur "$t_boot"), gcc+make $(dur "$t_base"), make demo $(dur "$t_demo"), make test $(dur "$t_test"), in all $(dur $total)"
    [ $ok = yes ]
}

if [ "${1:-}" = --inner ]; then
    inner
    exit $?
fi

# ------------------------------------------------------------ outside
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${FRESH_SUITE:-bookworm}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
# A private mount namespace or nothing: its mounts cannot leak out, and they
# end with it however this script ends.
unshare -m --propagation private true 2>/dev/null || die "needs a private mount namespace (unshare -m failed)"
HEAD=$(git -C "$ROOT" rev-parse --verify HEAD 2>/dev/null) || die "$ROOT is not a git checkout with a commit"
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
    say "note: uncommitted changes in $ROOT are not part of the check (it clones HEAD)"
SHARED=$(cd "$ROOT/../shared" 2>/dev/null && pwd) || die "no ../shared beside $ROOT"
sh "$ROOT/scripts/setup.sh" fresh || exit 1

# The first apt source of this machine that serves $SUITE: deb822 stanzas in
# *.sources (Types, URIs, Suites, Enabled), then one-line "deb [opts] URI
# SUITE ..." entries.
mirror() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$SUITE" '
            function flush() {
                if (!found && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " s " ") &&
                    enabled != "no" && uri != "") { print uri; found = 1 }
                types = suites = uri = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[A-Za-z-]+:/ {
                k = tolower($1); sub(/:$/, "", k); $1 = ""; v = $0; sub(/^ +/, "", v)
                if (k == "types") types = v
                else if (k == "suites") suites = v
                else if (k == "uris") { split(v, a, " "); uri = a[1] }
                else if (k == "enabled") enabled = tolower(v)
            }
            END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$SUITE" '$1 == "deb" {
            i = 2
            if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) == s) print $i
        }' "$f"
    done
}
MIRROR=$(mirror | head -n 1)
[ -n "$MIRROR" ] || die "no apt source for $SUITE in /etc/apt/sources.list{,.d}"

T=$(mktemp -d "${FRESH_TMP:-${TMPDIR:-/tmp}}/lincomp-fresh.XXXXXX") || die "mktemp failed"
export T ROOT HEAD SHARED SUITE MIRROR

# Deletes the tree only when nothing below it is mounted (in this namespace;
# the private one is gone with its processes), and never crosses into
# another file system while deleting.
cleanup() {
    trap - EXIT INT TERM
    if ! unmount_all "$T"; then
        say "still mounted below $T, left in place:"; mounts_under "$T"
        exit 1
    fi
    rm -rf --one-file-system "$T"
    [ ! -e "$T" ] || say "could not delete $T"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

say "new $SUITE system in $T (mirror $MIRROR, HEAD $(echo "$HEAD" | cut -c1-12))"
unshare -m --propagation private sh "$ROOT/scripts/check-fresh.sh" --inner
rc=$?
[ $rc -eq 0 ] && say "passed" || say "FAILED"
exit $rc
