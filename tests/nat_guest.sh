#!/bin/busybox sh
# PID 1 of a tests/nat.rs guest: gets its address by DHCP from the dnsmasq
# vnet started, pings the "internet" (203.0.113.1, another namespace) and
# its peer, reporting on the serial console:
#   VNET-BOOTED | VNET-ADDR <ip> | VNET-OUT <status> | VNET-PEER <status> | VNET-DONE
# then waits for the test to stop QEMU, so its peer can still reach it.
/bin/busybox --install -s /vnet/bin
export PATH=/vnet/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo VNET-BOOTED
. /vnet/env
for m in $MODULES; do insmod "/vnet/modules/$m.ko" || echo "VNET-FAILED insmod $m"; done
ip link set lo up
ip link set eth0 up
cat >/tmp/dhcp.sh <<'EOF'
#!/vnet/bin/sh
case "$1" in
bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    ip route add default via "$router" dev "$interface"
    echo "$ip" >/tmp/ip ;;
esac
EOF
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -f -q -n -t 30 -T 2 -s /tmp/dhcp.sh >/dev/null 2>&1
ip=$(cat /tmp/ip 2>/dev/null)
echo "VNET-ADDR ${ip:-none}"
ping -c 3 -W 3 203.0.113.1 >/dev/null 2>&1
echo "VNET-OUT $?"
if [ -n "$PEER" ]; then
    case "$ip" in "$PEER") peer=$OTHER ;; *) peer=$PEER ;; esac
    status=1
    for _ in $(seq 90); do
        ping -c 1 -W 1 "$peer" >/dev/null 2>&1 && { status=0; break; }
    done
    echo "VNET-PEER $status"
fi
echo VNET-DONE
sleep 1000
poweroff -f
