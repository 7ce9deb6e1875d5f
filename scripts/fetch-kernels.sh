#!/usr/bin/env bash
# Fetches the Debian kernels that tests/kernels.rs boots under QEMU: for each
# series, the newest linux-image package in bookworm (with its security and
# backports suites), downloaded with apt-get and unpacked with dpkg-deb into
# the cache, never installed. $VNET_KERNELS/<series> is a symlink to the
# unpacked tree (boot/vmlinuz-*, lib/modules/*); older trees are removed.
#
# apt runs on a private sources list and state directory inside the cache,
# so the machine's own sources and package lists are left alone, and the
# lists are only refreshed (If-Modified-Since) on later runs.
set -euo pipefail

cache=${VNET_KERNELS:-/var/cache/vnet-kernels}
# series and the package names it takes; -cloud and -rt flavours are not
# matched. A -unsigned package holds the same kernel and modules as the
# signed one, and is sometimes published first.
series=(
    "6.1  linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?"
    "6.12 linux-image-6\.12\.[0-9]+\+[a-z0-9.]+-amd64(-unsigned)?"
)
archive=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if ! mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/apt/empty" 2>/dev/null; then
    echo "fetch-kernels: cannot write $cache: run as root, or set VNET_KERNELS" >&2
    # Without kernels the matrix test says SKIPPED, or fails under CI=true.
    [ "${CI:-}" != true ] || exit 1
    exit 0
fi
# Two test runs at once must not unpack into each other.
exec 9>"$cache/.lock"
flock -w 900 9
# Left by a run that was killed while unpacking.
rm -rf "$cache"/.unpack.*

cat >"$cache/apt/sources.list" <<EOF
deb [signed-by=$keyring] $archive bookworm main
deb [signed-by=$keyring] $archive bookworm-backports main
deb [signed-by=$keyring] ${archive}-security bookworm-security main
EOF
: >"$cache/apt/status"
apt=(
    -o "Dir::Etc::SourceList=$cache/apt/sources.list"
    -o "Dir::Etc::SourceParts=$cache/apt/empty"
    -o "Dir::Etc::Preferences=$cache/apt/empty"
    -o "Dir::Etc::PreferencesParts=$cache/apt/empty"
    -o "Dir::State::Lists=$cache/apt/lists"
    -o "Dir::State::Status=$cache/apt/status"
    -o "Dir::Cache=$cache/apt/cache"
    -o Acquire::Languages=none
    -o Acquire::Retries=2
    -o Acquire::http::Timeout=30
    # The cache belongs to root; apt's _apt sandbox user could not write it.
    -o APT::Sandbox::User=root
)

have_all() {
    for s in "${series[@]}"; do [ -e "$cache/${s%% *}/boot" ] || return 1; done
}

if ! apt-get "${apt[@]}" -qq update; then
    # Offline with a full cache: test what we have rather than nothing.
    have_all || { echo "fetch-kernels: apt-get update failed and $cache is incomplete" >&2; exit 1; }
    echo "fetch-kernels: warning: apt-get update failed; using the cached kernels" >&2
    exit 0
fi

for s in "${series[@]}"; do
    name=${s%% *}
    re=${s##* }
    pkg=$(apt-cache "${apt[@]}" pkgnames linux-image- | grep -E "^$re\$" | sort -V | tail -n 1) || true
    [ -n "$pkg" ] || { echo "fetch-kernels: no package matches $re" >&2; exit 1; }
    kver=${pkg#linux-image-}
    kver=${kver%-unsigned}
    if [ ! -e "$cache/$kver/boot/vmlinuz-$kver" ]; then
        size=$(apt-cache "${apt[@]}" show "$pkg" | sed -n 's/^Size: //p' | head -n 1)
        echo "fetch-kernels: downloading $pkg ($(( ${size:-0} / 1000000 )) MB) into $cache"
        tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
        (cd "$tmp" && apt-get "${apt[@]}" -qq download "$pkg")
        dpkg-deb -x "$tmp"/*.deb "$tmp/root"
        [ -e "$tmp/root/boot/vmlinuz-$kver" ] || { echo "fetch-kernels: $pkg has no boot/vmlinuz-$kver" >&2; exit 1; }
        rm -rf "$cache/$kver"
        mv "$tmp/root" "$cache/$kver"
        rm -rf "$tmp"
    fi
    ln -sfn "$kver" "$cache/$name.new"
    mv -T "$cache/$name.new" "$cache/$name"
    # Drop this series' older trees: each is a few hundred megabytes.
    for old in "$cache"/*-amd64; do
        base=${old##*/}
        if [ "$base" != "$kver" ] && grep -qE "^$re\$" <<<"linux-image-$base"; then
            rm -rf "$old"
        fi
    done
    echo "fetch-kernels: $name: $pkg ($(apt-cache "${apt[@]}" show "$pkg" | sed -n 's/^Version: //p' | head -n 1))"
done
