#!/bin/sh
# README.md's first command: installs what building and the demo need
# (scripts/install-deps.sh demo), builds the binaries, and shows
# vnet-ifup and vnet-ifdown at work in a throwaway network namespace: a
# bridge br0 with MTU 9000 and a tap vnet0, as QEMU would leave it.
# Run as root. The host's own interfaces are never touched.
# With BIN=DIR it runs DIR's binaries and builds nothing.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root (it makes a network namespace): sudo sh scripts/demo.sh" >&2
    exit 1
fi
sh scripts/install-deps.sh demo
if [ -z "${BIN:-}" ]; then
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        . "$HOME/.cargo/env"
    fi
    cargo build --release
fi
bin=${BIN:-target/x86_64-unknown-linux-musl/release}
ns="vnet-demo-$$"
conf=$(mktemp)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$conf"' EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 mtu 9000 up
ip -n "$ns" tuntap add dev vnet0 mode tap
echo "bridge = br0" >"$conf"

show() {
    echo "--- $1"
    ip -n "$ns" link show dev vnet0
    echo "bridge link:"
    bridge -n "$ns" link show | sed 's/^/  /'
}

show "before: a fresh tap, as QEMU creates it"
echo "+ vnet-ifup vnet0"
ip netns exec "$ns" env VNET_CONFIG="$conf" VNET_LOG=info "$bin/vnet-ifup" vnet0
show "after vnet-ifup: up, on br0, MTU 9000, MAC fe:..."
echo "+ vnet-ifdown vnet0"
ip netns exec "$ns" env VNET_LOG=info "$bin/vnet-ifdown" vnet0
show "after vnet-ifdown: down, no master"
