#!/usr/bin/env bash
# make package-test: checks the .deb and the .rpm that make deb and make rpm
# built from the binaries make test tested; tries make install in a scratch
# DESTDIR; installs the .deb on this machine, runs QEMU against the installed
# /usr/libexec/vnet-ifup with a configuration in /etc/vnet/vnet.conf, runs the
# test suite (tests/qemu.rs included) against /usr/libexec, runs the installed
# binaries as a privileged helper for uid 65534, and purges the package,
# checking that nothing of it is left.
#
# Needs root. QEMU and its taps live in a throwaway network namespace: no
# interface of the host namespace is touched. Whatever happens, the package
# this script installed is purged and the namespace deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
bin=target/x86_64-unknown-linux-musl/release
deb=target/packages/vnet_${version}_amd64.deb
rpm=target/packages/vnet-${version}-1.x86_64.rpm
ns=vnet-pkgtest-$$
tap=vnet-pkg0
bridge=brpkg
work=$(mktemp -d /tmp/vnet-pkgtest.XXXXXX)
installed=false
qemu_pid=

step() { printf '\n=== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
fail() {
    printf 'package-test: FAILED: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local status=$?
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    if $installed; then
        echo "cleanup: purging vnet"
        dpkg --purge vnet >/dev/null || echo "cleanup: dpkg --purge vnet failed" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The rendering check lintian uses: any groff or man warning is a failure.
man_warnings() {
    { LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -Tutf8 -Z "$@" >/dev/null; } 2>&1
}

# Regular files and symlinks of a package, one path a line, sorted.
deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort; }
rpm_files() { rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" | awk '$1 !~ /^d/ { print $2 }' | sort; }

[ "$(id -u)" = 0 ] || fail "needs root: it installs the .deb and makes a network namespace"
for f in "$deb" "$rpm" "$bin/vnet-ifup" "$bin/vnet-ifdown"; do
    [ -f "$f" ] || fail "$f is missing: run make deb rpm first"
done
status=$(dpkg-query -W -f='${db:Status-Abbrev}' vnet 2>/dev/null || true)
case "$status" in
    "" | un*) ;;
    *) fail "vnet is already known to dpkg ($status): this test installs and purges it, so purge it first" ;;
esac
[ ! -e /etc/vnet ] || fail "/etc/vnet exists: it is not this test's to overwrite"

# The binaries the tests ran are the ones cargo test leaves in $bin (its
# dev-dependencies' features make them differ from plain cargo build's).
# make deb and make rpm packaged those; put them back in $bin in case a
# cargo build ran since (after make test this builds nothing), so the
# comparisons below prove the packages hold what the tests ran.
cargo test --release --no-run --quiet 2>/dev/null ||
    fail "cargo test --release --no-run failed"

step "the .deb: $deb"
lintian --fail-on error,warning --display-info --pedantic "$deb" ||
    fail "lintian: errors or warnings"
ok "lintian: no error or warning"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = vnet ] || fail "Package is $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version $(field Version) is not Cargo.toml's $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture is $(field Architecture)"
[ -z "$(field Depends)$(field Pre-Depends)" ] || fail "runtime dependencies: $(field Depends) $(field Pre-Depends)"
case "$(field Recommends)" in *qemu-system*) ;; *) fail "Recommends lacks qemu-system" ;; esac
if [ -z "$(field Maintainer)" ] || [ -z "$(field Description)" ]; then fail "Maintainer or Description missing"; fi
ok "version $version, no Depends, Recommends: $(field Recommends)"

dpkg-deb -e "$deb" "$work/DEBIAN"
members=$(cd "$work/DEBIAN" && echo *)
[ "$members" = "conffiles control md5sums" ] || fail "control members: $members; expected no maintainer scripts"
[ "$(cat "$work/DEBIAN/conffiles")" = /etc/vnet/vnet.conf ] || fail "conffiles: $(cat "$work/DEBIAN/conffiles")"
ok "no maintainer scripts; conffile /etc/vnet/vnet.conf"

dpkg-deb -x "$deb" "$work/deb"
for b in vnet-ifup vnet-ifdown; do
    cmp "$bin/$b" "$work/deb/usr/libexec/$b" ||
        fail "/usr/libexec/$b in the .deb is not the $bin/$b cargo test ran (was it packaged from cargo build's?)"
done
cmp packaging/vnet.conf "$work/deb/etc/vnet/vnet.conf" || fail "the conffile is not packaging/vnet.conf"
zcmp packaging/man/vnet-ifup.8 "$work/deb/usr/share/man/man8/vnet-ifup.8.gz" || fail "vnet-ifup.8 differs"
zcmp packaging/man/vnet.conf.5 "$work/deb/usr/share/man/man5/vnet.conf.5.gz" || fail "vnet.conf.5 differs"
[ "$(readlink "$work/deb/usr/share/man/man8/vnet-ifdown.8.gz")" = vnet-ifup.8.gz ] ||
    fail "vnet-ifdown.8.gz is not a link to vnet-ifup.8.gz"
ok "binaries identical to $bin; conffile and man pages as in packaging/"
for page in man8/vnet-ifup.8.gz man5/vnet.conf.5.gz; do
    warnings=$(man_warnings -l "$work/deb/usr/share/man/$page")
    [ -z "$warnings" ] || fail "$page renders with warnings: $warnings"
done
ok "man pages render without warnings"

step "the .rpm: $rpm"
rpm_q() { rpm -qp "$@" "$rpm" 2>/dev/null; }
[ "$(rpm_q --qf '%{NAME} %{VERSION} %{ARCH}')" = "vnet $version x86_64" ] ||
    fail "rpm is $(rpm_q --qf '%{NAME} %{VERSION} %{ARCH}')"
scripts=$(rpm_q --scripts)
[ -z "$scripts" ] || fail "rpm scriptlets: $scripts"
echo "rpm -qp --requires:"
rpm_q --requires | sed 's/^/  /'
# rpm adds rpmlib() features of the package format, and config(vnet), which
# the package provides itself because it has a %config file.
others=$(rpm_q --requires | grep -v -E "^(rpmlib\(.*\)|config\(vnet\) = $version-1)( |$)" || true)
[ -z "$others" ] || fail "runtime dependencies: $others"
rpm_q --provides | grep -qx "config(vnet) = $version-1" || fail "config(vnet) is not self-provided"
rpm_q --recommends | grep -q qemu || fail "no Recommends of qemu"
rpm_q --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' | grep -qx 'cn /etc/vnet/vnet.conf' ||
    fail "/etc/vnet/vnet.conf is not %config(noreplace)"
ok "no scriptlets, no runtime dependency, /etc/vnet/vnet.conf is %config(noreplace)"

# The same files, except where each distribution has its own convention:
# Debian's copyright and changelog.gz and lintian overrides, rpm's
# /usr/share/licenses; and Debian compresses README.md (over 4 kB).
deb_files "$deb" | sed 's/\.gz$//' >"$work/deb.list"
rpm_files "$rpm" | sed 's/\.gz$//' >"$work/rpm.list"
outside_docs() { grep -v -E '^/usr/share/(doc|licenses|lintian)/' "$1"; }
diff -u <(outside_docs "$work/deb.list") <(outside_docs "$work/rpm.list") ||
    fail "the .deb and the .rpm install different files"
echo "both install:"
outside_docs "$work/rpm.list" | sed 's/^/  /'
[ "$(grep '^/usr/share/doc/' "$work/deb.list" | tr '\n' ' ')" = \
    "/usr/share/doc/vnet/LICENSE.dependencies /usr/share/doc/vnet/README.md /usr/share/doc/vnet/changelog /usr/share/doc/vnet/copyright " ] ||
    fail "deb documents: $(grep '^/usr/share/doc/' "$work/deb.list")"
[ "$(grep -E '^/usr/share/(doc|licenses)/' "$work/rpm.list" | tr '\n' ' ')" = \
    "/usr/share/doc/vnet/README.md /usr/share/licenses/vnet/LICENSE-APACHE /usr/share/licenses/vnet/LICENSE-MIT /usr/share/licenses/vnet/LICENSE.dependencies " ] ||
    fail "rpm documents: $(grep -E '^/usr/share/(doc|licenses)/' "$work/rpm.list")"
ok "documents: deb README.md, LICENSE.dependencies, copyright, changelog; rpm README.md and the three license files under /usr/share/licenses/vnet"

mkdir "$work/rpm"
rpm2archive - <"$rpm" | tar -xzf - -C "$work/rpm"
for b in vnet-ifup vnet-ifdown; do
    cmp "$bin/$b" "$work/rpm/usr/libexec/$b" || fail "/usr/libexec/$b in the .rpm is not the tested $bin/$b"
done
[ "$("$work/rpm/usr/libexec/vnet-ifup" --version)" = "vnet-ifup $version" ] || fail "rpm's vnet-ifup --version"
ok "binaries identical to $bin"
force=
if rpm --help 2>/dev/null | grep -q -- --force-debian; then force=--force-debian; fi
mkdir "$work/rpmdb"
# shellcheck disable=SC2086 # $force is one word or none
rpm -i --test $force --dbpath "$work/rpmdb" "$rpm" || fail "rpm -i --test refuses the package"
ok "rpm -i --test on an empty rpm database: installable"

step "make install into a scratch DESTDIR"
dest=$work/dest
mk() { make -s --no-print-directory DESTDIR="$dest" PREFIX=/opt/vnet LIBEXECDIR=/opt/vnet/bin \
    SYSCONFDIR=/opt/etc MANDIR=/opt/man "$@"; }
mk install >/dev/null
(cd "$dest" && find . ! -type d | sed 's/^\.//' | sort) >"$work/install.list"
cat >"$work/install.expected" <<EOF
/opt/etc/vnet/vnet.conf
/opt/man/man5/vnet.conf.5
/opt/man/man8/vnet-ifdown.8
/opt/man/man8/vnet-ifup.8
/opt/vnet/bin/vnet-ifdown
/opt/vnet/bin/vnet-ifup
/opt/vnet/share/doc/vnet/LICENSE-APACHE
/opt/vnet/share/doc/vnet/LICENSE-MIT
/opt/vnet/share/doc/vnet/LICENSE.dependencies
/opt/vnet/share/doc/vnet/README.md
EOF
diff -u "$work/install.expected" "$work/install.list" || fail "make install put other files"
cmp "$bin/vnet-ifup" "$dest/opt/vnet/bin/vnet-ifup" || fail "make install changed vnet-ifup"
echo "bridge = edited" >"$dest/opt/etc/vnet/vnet.conf"
mk install | grep -q '^keeping ' || fail "a second make install did not say it keeps the configuration"
[ "$(cat "$dest/opt/etc/vnet/vnet.conf")" = "bridge = edited" ] || fail "make install overwrote an edited configuration"
mk uninstall >/dev/null
[ "$(cd "$dest" && find . ! -type d)" = ./opt/etc/vnet/vnet.conf ] ||
    fail "make uninstall left: $(cd "$dest" && find . ! -type d)"
ok "make install honours DESTDIR, PREFIX, LIBEXECDIR, SYSCONFDIR, MANDIR; keeps an edited configuration; uninstall keeps only it"

step "dpkg -i $deb"
installed=true
dpkg -i "$deb"
[ "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' vnet)" = "ii  $version" ] ||
    fail "dpkg status: $(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' vnet)"
for b in vnet-ifup vnet-ifdown; do
    got=$("/usr/libexec/$b" --version)
    [ "$got" = "$b $version" ] || fail "/usr/libexec/$b --version says \"$got\", the package is $version"
done
ok "installed; /usr/libexec/vnet-ifup --version matches the package: $version"
[ "$(man -w vnet-ifup)" = /usr/share/man/man8/vnet-ifup.8.gz ] || fail "man -w vnet-ifup: $(man -w vnet-ifup)"
for page in "8 vnet-ifup" "8 vnet-ifdown" "5 vnet.conf"; do
    # shellcheck disable=SC2086 # section and name are two words
    warnings=$(man_warnings $page)
    [ -z "$warnings" ] || fail "man $page: $warnings"
    # shellcheck disable=SC2086
    MANWIDTH=80 man -P cat $page 2>/dev/null | grep -q '^NAME' || fail "man $page does not render"
done
ok "man vnet-ifup, man vnet-ifdown and man 5 vnet.conf render"

# A privileged helper trusts only root's own, unwritable configuration.
for f in /etc/vnet /etc/vnet/vnet.conf; do
    perms=$(stat -c '%U:%G %a' "$f")
    case "$perms" in
        "root:root 755" | "root:root 644") ;;
        *) fail "$f is $perms: a privileged helper would refuse it" ;;
    esac
done
ok "/etc/vnet and vnet.conf are root's and writable by root only"

ip netns add "$ns"
ip -n "$ns" link set lo up

# The configuration as shipped: parses, and sets nothing.
set +e
shipped=$(ip netns exec "$ns" env -u VNET_CONFIG -u VNET_BRIDGE /usr/libexec/vnet-ifup --check "$tap" 2>&1)
code=$?
set -e
[ "$code" != 2 ] || fail "the shipped /etc/vnet/vnet.conf is refused: $shipped"
echo "$shipped" | grep -q -E '^config +/etc/vnet/vnet.conf$' || fail "--check did not read /etc/vnet/vnet.conf: $shipped"
if echo "$shipped" | grep -q '(/etc/vnet/vnet.conf:'; then fail "the shipped file sets something: $shipped"; fi
ok "the shipped /etc/vnet/vnet.conf parses and leaves every default"

# A local configuration, which a reinstall must keep.
cat >"$work/vnet.conf" <<EOF
# written by scripts/package-test.sh
bridge = vnet-pkgnone
[match vnet-pkg*]
bridge = $bridge
isolated = yes
EOF
cp "$work/vnet.conf" /etc/vnet/vnet.conf
dpkg -i "$deb" >/dev/null
cmp "$work/vnet.conf" /etc/vnet/vnet.conf || fail "reinstalling the .deb replaced the edited /etc/vnet/vnet.conf"
ok "reinstalling keeps the edited /etc/vnet/vnet.conf"

step "QEMU in namespace $ns: script=/usr/libexec/vnet-ifup, /etc/vnet/vnet.conf"
ip -n "$ns" link add "$bridge" type bridge
ip -n "$ns" link set "$bridge" mtu 9000 up
# Paused (-S) with no firmware for the NIC: only the netdev's life matters.
# No VNET_CONFIG: the binaries read /etc/vnet/vnet.conf, as installed.
# shellcheck disable=SC2054 # the commas are QEMU's
qemu=(ip netns exec "$ns" env -u VNET_CONFIG -u VNET_BRIDGE VNET_LOG=info
    qemu-system-x86_64 -S -display none -nodefaults -no-user-config
    -netdev "tap,id=n0,ifname=$tap,script=/usr/libexec/vnet-ifup,downscript=/usr/libexec/vnet-ifdown"
    -device virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:12:34:56)
"${qemu[@]}" 2>"$work/qemu.log" &
qemu_pid=$!
for _ in $(seq 150); do
    bridge -n "$ns" link show dev "$tap" 2>/dev/null | grep -q "master $bridge" && break
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.2
done
link=$(ip -n "$ns" -o link show dev "$tap" 2>/dev/null || true)
echo "ip link:     $link"
echo "bridge link: $(bridge -n "$ns" link show dev "$tap" 2>/dev/null || true)"
kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited: $(cat "$work/qemu.log")"
for want in "master $bridge" "mtu 9000" ",UP" "link/ether fe:"; do
    case "$link" in *"$want"*) ;; *) fail "the tap lacks \"$want\": $link; QEMU said: $(cat "$work/qemu.log")" ;; esac
done
bridge -n "$ns" -d link show dev "$tap" | grep -q 'isolated on' ||
    fail "the port is not isolated: $(bridge -n "$ns" -d link show dev "$tap")"
kill -TERM "$qemu_pid"
set +e
wait "$qemu_pid"
code=$?
set -e
qemu_pid=
sed 's/^/  qemu: /' "$work/qemu.log"
[ "$code" = 0 ] || fail "QEMU exited with status $code on SIGTERM"
grep -q "^vnet-ifup: info: attached $tap to $bridge: mtu 9000, mac fe:" "$work/qemu.log" ||
    fail "no attach line from vnet-ifup"
grep -q "^vnet-ifdown: info: detached $tap from $bridge; it is down" "$work/qemu.log" ||
    fail "no detach line from vnet-ifdown: QEMU did not run the downscript, or it failed"
ok "QEMU ran vnet-ifup (tap up on $bridge, MTU 9000, MAC fe:..., port isolated) and vnet-ifdown"

# A broken configuration: QEMU must refuse to start, naming the line.
echo "brige = $bridge" >/etc/vnet/vnet.conf
set +e
timeout 60 "${qemu[@]}" >"$work/qemu.log" 2>&1
code=$?
set -e
sed 's/^/  qemu: /' "$work/qemu.log"
if [ "$code" = 0 ] || [ "$code" = 124 ]; then fail "QEMU did not refuse to start (status $code)"; fi
grep -q '^vnet-ifup: /etc/vnet/vnet.conf:1: unknown key "brige" (did you mean "bridge"?)$' "$work/qemu.log" ||
    fail "no configuration error line from vnet-ifup"
grep -q "network script /usr/libexec/vnet-ifup failed" "$work/qemu.log" || fail "QEMU did not report the script"
! ip -n "$ns" link show dev "$tap" >/dev/null 2>&1 || fail "$tap was left behind"
ok "with a broken /etc/vnet/vnet.conf, QEMU refuses to start and shows vnet-ifup's line"

step "the test suite, tests/qemu.rs included, against /usr/libexec (VNET_BIN_DIR)"
# Every integration test runs the installed binaries instead of cargo's; the
# tests give the binaries their own VNET_CONFIG, and /etc/vnet/vnet.conf
# holds a valid configuration meanwhile.
cp "$work/vnet.conf" /etc/vnet/vnet.conf
grep -q VNET_BIN_DIR tests/common/mod.rs || fail "tests/common does not honour VNET_BIN_DIR"
VNET_BIN_DIR=/usr/libexec cargo test --release --quiet
ok "cargo test --release passed with VNET_BIN_DIR=/usr/libexec, tests/qemu.rs included"

step "privileged helper: setcap on /usr/libexec/vnet-ifup, run as uid 65534"
# The installed binaries with file capabilities, run as an ordinary user,
# read the installed /etc/vnet/vnet.conf: its access rules and ownership must
# do. Purging the package removes the capabilities with the files.
# setcap wants the capabilities before each file.
setcap cap_net_admin+ep /usr/libexec/vnet-ifup cap_net_admin+ep /usr/libexec/vnet-ifdown
printf '[match vnet-pkg*]\nbridge = %s\n[access %s]\nallow = 65534\n' "$bridge" "$bridge" \
    >/etc/vnet/vnet.conf
ip -n "$ns" tuntap add dev vnet-pkg1 mode tap user 65534
ip -n "$ns" tuntap add dev vnet-pkg2 mode tap user 0
as_nobody() {
    ip netns exec "$ns" env -u VNET_CONFIG -u VNET_BRIDGE \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
as_nobody /usr/libexec/vnet-ifup vnet-pkg1 ||
    fail "the helper did not attach uid 65534's own tap to an allowed bridge"
bridge -n "$ns" link show dev vnet-pkg1 | grep -q "master $bridge" || fail "vnet-pkg1 is not on $bridge"
set +e
refused=$(as_nobody /usr/libexec/vnet-ifup vnet-pkg2 2>&1)
code=$?
set -e
echo "refused: $refused"
[ "$code" = 1 ] || fail "another user's tap: status $code"
case "$refused" in *"does not belong to"*"uid 65534"*) ;; *) fail "another user's tap was not refused as such" ;; esac
as_nobody /usr/libexec/vnet-ifdown vnet-pkg1 || fail "the helper did not detach uid 65534's tap"
if bridge -n "$ns" link show dev vnet-pkg1 | grep -q master; then fail "vnet-pkg1 is still on a bridge"; fi
ok "as uid 65534, the installed helper attaches and detaches its own tap and refuses root's"

ip netns del "$ns"

step "dpkg --purge vnet"
dpkg --purge vnet
installed=false
status=$(dpkg-query -W -f='${db:Status-Abbrev}' vnet 2>/dev/null || true)
case "$status" in "" | un*) ;; *) fail "dpkg still knows vnet: $status" ;; esac
left=$(deb_files "$deb" | while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done)
[ -z "$left" ] || fail "left after purge: $left"
for d in /etc/vnet /usr/share/doc/vnet; do
    [ ! -e "$d" ] || fail "$d is left after purge: $(ls -A "$d")"
done
ok "purged: no file of the package, no /etc/vnet, no /usr/share/doc/vnet"

step "package-test: all passed"
