#!/bin/busybox sh
# PID 1 of a kernel-matrix guest (tests/common/guest/mod.rs builds its
# initramfs and reads these lines from the serial console):
#   VNET-BOOTED <uptime>                     userspace reached
#   VNET-RESULT <suite> <status> <uptime>    after each suite
#   VNET-DONE                                every suite ran
# then it powers off. Should this script die, the kernel panics, and
# panic=-1 with QEMU's -no-reboot ends the run all the same.

# busybox's applets go where nothing else looks: its `ip` must not stand
# in for iproute2's, which the suites also exec with an empty environment,
# so through the C library's default search path (/bin, /usr/bin).
/bin/busybox --install -s /vnet/bin
export PATH=/usr/sbin:/usr/bin:/vnet/bin

now() {
    read -r up _ </proc/uptime
    echo "$up"
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# ip netns keeps its namespaces in /run/netns; the suites write to /tmp.
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
echo "VNET-BOOTED $(now)"

# MODULES (in load order), SUITES and VNET_BIN_DIR.
. /vnet/env
for m in $MODULES; do
    insmod "/vnet/modules/$m.ko" || { echo "VNET-FAILED insmod $m"; poweroff -f; }
done
# busybox's ip: its shell runs its own applets before searching PATH.
ip link set lo up

# CI=true: a privileged test that cannot run fails here too.
# VNET_GUEST_KERNEL: a test can require what distribution kernels have.
export CI=true RUST_BACKTRACE=1 VNET_GUEST_KERNEL="$(uname -r)"
for suite in $SUITES; do
    "/vnet/tests/$suite" --test-threads="$(nproc)" --color=never
    status=$?
    echo "VNET-RESULT $suite $status $(now)"
    [ "$status" = 0 ] || dmesg | tail -n 30
done
echo VNET-DONE
poweroff -f
