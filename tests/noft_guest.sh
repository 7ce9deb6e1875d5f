#!/bin/busybox sh
# PID 1 of tests/nat.rs's guest without nf_tables: the kernel has it as a
# module, which this guest never loads (and has no modprobe to autoload).
# It runs vnet-ifup --network-up on a NAT network twice, first without
# nfnetlink, then with nfnetlink but still without nf_tables, and reports:
#   VNET-STATUS <n> <exit status> | VNET-ERR <n> <stderr> | VNET-SAME <n> yes|no
/bin/busybox --install -s /vnet/bin
export PATH=/vnet/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo VNET-BOOTED
. /vnet/env
for m in $MODULES; do insmod "/vnet/modules/$m.ko" || echo "VNET-FAILED insmod $m"; done
ip link set lo up
state() { ip -o link; ip -o addr; ls /tmp/run 2>/dev/null; }
for n in 1 2; do
    [ "$n" = 2 ] && { insmod /vnet/modules/nfnetlink.ko || echo "VNET-FAILED insmod nfnetlink"; }
    before=$(state)
    VNET_CONFIG=/vnet/vnet.conf VNET_RUNTIME_DIR=/tmp/run /vnet/vnet-ifup --network-up nat0 2>/tmp/err
    echo "VNET-STATUS $n $?"
    echo "VNET-ERR $n $(cat /tmp/err)"
    after=$(state)
    [ "$before" = "$after" ] && echo "VNET-SAME $n yes" || echo "VNET-SAME $n no"
done
echo VNET-DONE
poweroff -f
