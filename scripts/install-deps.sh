#!/bin/sh
# Installs what vnet's commands need on Debian: THE list of packages, shared
# by scripts/demo.sh, scripts/test.sh and .ci/run, and the Rust target the
# binaries are built for (rust-toolchain.toml names it too).
#
#   sh scripts/install-deps.sh [demo|test|ci]     (default: test)
#
# demo: building and scripts/demo.sh; test: also the whole test suite;
# ci: also make package-test. Installs only what is missing, so a second
# run does nothing. What it cannot install (not root, no apt-get, no
# rustup) stops it with one line that says what to run.
set -eu
# rustup reads rust-toolchain.toml from here.
cd "$(dirname "$0")/.."

# One package a line: the first step that needs it, the Debian package, and
# why. Each step gets its own packages and those of the steps above it.
packages() {
    cat <<'EOF'
demo  gcc                     rustc links through cc (with build.rs's linker script)
demo  libc6-dev               crt1.o and libc for the build scripts cargo links for the host
demo  ca-certificates         cargo fetches the crates over https
demo  iproute2                ip and bridge: the demo, and every test's oracle
test  strace                  tests/strace.rs (syscalls), tests/races.rs (races at chosen points)
test  file                    tests/cli.rs: the binaries are static
test  libcap2-bin             setcap: tests/unprivileged.rs's capable copies
test  util-linux              setpriv (privileged-helper tests, the guests), flock
test  mount                   the helper tests' bind mounts in a private mount namespace
test  qemu-system-x86         tests/qemu.rs and the kernel matrix (its BIOS comes along)
test  busybox-static          the kernel matrix guests' init and shell
test  libvirt-daemon          tests/libvirt*.rs: libvirtd itself (no -system package: no service)
test  libvirt-daemon-driver-qemu  tests/libvirt*.rs: libvirt's QEMU driver
test  libvirt-clients         tests/libvirt*.rs: virsh
test  dnsmasq-base            [network] sections start dnsmasq (tests/network*.rs, tests/nat.rs)
test  nftables                nft, the networks' oracle (nft -j list ruleset)
test  xz-utils                Debian's kernel modules are xz-compressed
test  debian-archive-keyring  scripts/fetch-kernels.sh checks the kernels' signatures
ci    make                    make deb, make rpm, make package-test
ci    build-essential         dpkg-buildpackage's implicit build dependency
ci    dpkg-dev                dpkg-buildpackage
ci    debhelper               packaging/debian/rules
ci    lintian                 package-test lints the .deb
ci    rpm                     rpmbuild, and rpm -qp to inspect the .rpm
ci    man-db                  package-test renders the man pages
EOF
}

step=${1:-test}
case $step in
    demo) steps="demo" ;;
    test) steps="demo test" ;;
    ci) steps="demo test ci" ;;
    *) echo "install-deps: unknown step '$step': use demo, test or ci" >&2; exit 2 ;;
esac

wanted=$(packages | while read -r s pkg _; do
    case " $steps " in *" $s "*) echo "$pkg" ;; esac
done)
missing=
for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
missing=${missing# }
if [ -n "$missing" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: needs the Debian packages $missing (or your system's equivalents), and there is no apt-get here to install them" >&2
        exit 1
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: needs the Debian packages $missing: run as root, or first: sudo apt-get install --no-install-recommends $missing" >&2
        exit 1
    fi
    echo "install-deps: installing $missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# The binaries are static musl executables (.cargo/config.toml). rustup
# adds rust-toolchain.toml's target by itself, unless auto-install is off
# (RUSTUP_AUTO_INSTALL=0): then add it here.
target=x86_64-unknown-linux-musl
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo is not installed: install Rust with rustup (curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh), then run this again" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
    echo "install-deps: Rust's standard library for $target is missing and there is no rustup to add it: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
