#!/bin/sh
# README.md's "NAT network in one section", end to end on a machine with no
# guest image: the section's configuration and QEMU command, with a guest
# made of Debian's kernel (scripts/fetch-kernels.sh) and a busybox
# initramfs, as tests/nat.rs does. The "host" is a throwaway network
# namespace with an uplink veth to a second one, the "outside" holding
# 198.51.100.1/24 and 203.0.113.1/24 (documentation ranges). The guest gets
# its address from the dnsmasq vnet started and pings 203.0.113.1; a
# counter in the outside namespace shows the source address that arrived.
# Run as root. The host's own interfaces, rules and /run/vnet are never
# touched: the configuration and runtime files live in a temporary
# directory (VNET_CONFIG, VNET_RUNTIME_DIR). With BIN=DIR it runs DIR's
# binaries and builds nothing.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "nat-demo: run as root (it makes network namespaces): sudo sh scripts/nat-demo.sh" >&2
    exit 1
fi
sh scripts/install-deps.sh test
bash scripts/fetch-kernels.sh
if [ -z "${BIN:-}" ]; then
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        . "$HOME/.cargo/env"
    fi
    cargo build --release
fi
bin=$(realpath "${BIN:-target/x86_64-unknown-linux-musl/release}")
kernel=${VNET_KERNELS:-/var/cache/vnet-kernels}/6.1
vmlinuz=$(ls "$kernel"/boot/vmlinuz-* | head -n 1)
modules=$(ls -d "$kernel"/lib/modules/* | head -n 1)

ns="vnet-nat-demo-$$"
out="vnet-nat-outside-$$"
tmp=$(mktemp -d)
cleanup() {
    ip netns exec "$ns" env VNET_CONFIG="$tmp/vnet.conf" VNET_RUNTIME_DIR="$tmp/run" \
        "$bin/vnet-ifup" --network-down nat0 >/dev/null 2>&1 || true
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$out" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The README's configuration, word for word.
cat >"$tmp/vnet.conf" <<'EOF'
bridge = nat0

[network nat0]
address = 10.77.0.1/24
forward = nat
dhcp-range = 10.77.0.100 10.77.0.199
EOF

# The host and the outside world.
ip netns add "$ns"
ip netns add "$out"
ip -n "$ns" link set lo up
ip -n "$ns" link add up0 type veth peer name up1
ip -n "$ns" link set up1 netns "$out"
ip -n "$ns" addr add 198.51.100.2/24 dev up0
ip -n "$ns" link set up0 up
ip -n "$ns" route add default via 198.51.100.1
ip -n "$out" addr add 198.51.100.1/24 dev up1
ip -n "$out" addr add 203.0.113.1/24 dev up1
ip -n "$out" link set up1 up
ip netns exec "$out" nft -f - <<'EOF'
table inet probe {
    chain input {
        type filter hook input priority filter; policy accept;
        ip saddr 198.51.100.2 icmp type echo-request counter
        ip saddr 10.77.0.0/24 icmp type echo-request counter
    }
}
EOF

# The guest: busybox as init, virtio-net's modules, DHCP, then ping.
root="$tmp/initramfs"
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/modules"
cp /bin/busybox "$root/bin/busybox"
for m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev \
    virtio_pci_modern_dev virtio_pci virtio_net; do
    ko=$(find "$modules/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
    case $ko in
        "") ;; # built into this kernel
        *.xz) xz -dc "$ko" >"$root/modules/$m.ko"; echo "$m" >>"$root/modules/order" ;;
        *) cp "$ko" "$root/modules/$m.ko"; echo "$m" >>"$root/modules/order" ;;
    esac
done
cat >"$root/dhcp.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    ip route add default via "$router" dev "$interface"
    for d in $dns; do echo "nameserver $d"; done >/etc/resolv.conf ;;
esac
EOF
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod "/modules/$m.ko"; done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -f -q -n -t 30 -T 2 -s /dhcp.sh >/dev/null 2>&1
echo "guest: eth0 $(ip -4 addr show dev eth0 | awk '/inet /{print $2}')"
echo "guest: $(ip route | grep default)"
echo "guest: DNS server $(awk '{print $2}' /etc/resolv.conf 2>/dev/null)"
ping -c 3 -W 3 203.0.113.1
echo "guest: ping exit status $?"
poweroff -f
EOF
chmod 755 "$root/init" "$root/dhcp.sh"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$tmp/initrd"

# The section's QEMU command, with this guest instead of guest.qcow2 and
# the built binaries instead of the installed ones. TCG, which works
# everywhere (nested KVM often does not); the guest is small.
echo "nat-demo: booting the guest (under TCG: up to a few minutes)"
ip netns exec "$ns" env VNET_CONFIG="$tmp/vnet.conf" VNET_RUNTIME_DIR="$tmp/run" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    timeout 300 qemu-system-x86_64 -accel tcg -m 256 -nodefaults -no-user-config \
    -display none -no-reboot -serial stdio \
    -kernel "$vmlinuz" -initrd "$tmp/initrd" -append "console=ttyS0 quiet panic=-1" \
    -netdev "tap,id=n0,ifname=vm0,script=$bin/vnet-ifup,downscript=$bin/vnet-ifdown" \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= |
    tr -d '\r' | grep -E "^(guest:|PING|[0-9]+ bytes|---|[0-9]+ packets)" || true

echo "nat-demo: what the outside namespace saw (echo requests by source):"
seen=$(ip netns exec "$out" nft list chain inet probe input | grep counter)
echo "$seen"
echo "nat-demo: vnet's table in the host namespace:"
ip netns exec "$ns" nft list table inet vnet
# The demo is also README's proof (.ci/run runs it): the outside must have
# seen the guest's pings from the uplink address, and none from the guest's.
if echo "$seen" | grep -q "198.51.100.2 .*counter packets [1-9]" &&
    echo "$seen" | grep -q "10.77.0.0/24 .*counter packets 0 "; then
    echo "nat-demo: the guest reached 203.0.113.1 through NAT"
else
    echo "nat-demo: the guest did not reach 203.0.113.1 through NAT (see above)" >&2
    exit 1
fi
