//! libvirt's session mode: libvirtd as an ordinary user (`qemu:///session`)
//! makes the taps of `<interface type='bridge'>` with a bridge helper, here
//! a setcap'd copy of vnet-ifup.
//!
//! As for the system daemon, `ip netns exec` gives it a private mount
//! namespace: an overlay over `/etc` adds the user and vnet's `[access]`
//! rules, and one over `/dev` adds a tun device node mode 0666, as on
//! Debian (this host's may be 0600), and a `/dev/log` socket of the
//! test's, where vnet's audit trail arrives. Its runtime directory, home
//! and configuration are in the test's directory.

use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{stage_etc, Libvirtd, DAEMON_ENV};
use crate::common::{run_ok, Netns, IFUP};

/// Mounts the overlays, then becomes libvirtd as the user.
/// `$1` is the test's libvirt directory, `$2` the uid.
const SETUP: &str = "set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir=$1/etc/up,workdir=$1/etc/work /etc
mount -t overlay overlay -o lowerdir=/dev,upperdir=$1/dev/up,workdir=$1/dev/work /dev
mount --bind $1/syslog /dev/log
exec setpriv --reuid=$2 --regid=$2 --clear-groups libvirtd";

/// No virtlogd; warnings from everything, and the commands libvirtd runs.
const LIBVIRTD_CONF: &str = "log_filters = \"1:util.command\"\nlog_outputs = \"1:stderr\"\n";

impl Libvirtd {
    /// Starts a session libvirtd in `ns` as `user` (name, uid; the group
    /// has the same name and id) with `vnet_conf` as `/etc/vnet/vnet.conf`
    /// and [`Libvirtd::helper`] as its `bridge_helper`.
    pub fn session(ns: Netns, (name, uid): (&str, u32), vnet_conf: &str) -> Option<Libvirtd> {
        let dir = ns.path("libvirt");
        let home = dir.join("home");
        let passwd = format!("{name}:x:{uid}:{uid}::{}:/bin/sh\n", home.display());
        stage_etc(&dir, vnet_conf, &passwd, &format!("{name}:x:{uid}:\n"));
        let config = home.join(".config/libvirt");
        let dev = dir.join("dev/up");
        for sub in [
            &config,
            &dir.join("xdg"),
            &dir.join("bin"),
            &dev.join("net"),
            &dir.join("dev/work"),
        ] {
            std::fs::create_dir_all(sub).expect("session directories");
        }
        let helper = dir.join("bin/vnet-ifup");
        std::fs::copy(&*IFUP, &helper).expect("copy vnet-ifup");
        run_ok(
            "setcap",
            &["cap_net_admin+ep", helper.to_str().expect("path")],
        );
        let tun = dev.join("net/tun");
        run_ok(
            "mknod",
            &["-m", "666", tun.to_str().expect("path"), "c", "10", "200"],
        );
        // A socket reached through an overlay is not the bound one, so the
        // overlay holds a file for the socket to be bound over.
        std::fs::write(dev.join("log"), "").expect("/dev/log placeholder");
        let syslog = UnixDatagram::bind(dir.join("syslog")).expect("test syslog socket");
        // Like the real /dev/log: anyone may send.
        std::fs::set_permissions(dir.join("syslog"), PermissionsExt::from_mode(0o666))
            .expect("chmod");
        syslog
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let qemu_conf = format!(
            "bridge_helper = \"{}\"\nstdio_handler = \"file\"\n",
            helper.display()
        );
        std::fs::write(config.join("qemu.conf"), qemu_conf).expect("qemu.conf");
        std::fs::write(config.join("libvirtd.conf"), LIBVIRTD_CONF).expect("libvirtd.conf");
        own(&home, uid);
        own(&dir.join("xdg"), uid);
        std::fs::set_permissions(dir.join("xdg"), PermissionsExt::from_mode(0o700)).expect("chmod");

        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name, "sh", "-c", SETUP, "setup"])
            .arg(&dir)
            .arg(uid.to_string());
        cmd.env_clear().env("PATH", DAEMON_ENV[0].1);
        cmd.env("HOME", &home)
            .env("XDG_RUNTIME_DIR", dir.join("xdg"));
        let mut vm = Libvirtd::spawn(cmd, dir, Some(uid), ns)?;
        vm.syslog = Some(syslog);
        Some(vm)
    }

    /// The next line vnet wrote to the session's `/dev/log`.
    pub fn audit(&self) -> String {
        let syslog = self.syslog.as_ref().expect("a session daemon");
        let mut buf = [0; 2048];
        let n = syslog.recv(&mut buf).expect("an audit line within 10 s");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// The session daemon's bridge helper: the setcap'd copy of vnet-ifup.
    pub fn helper(&self) -> String {
        self.dir.join("bin/vnet-ifup").display().to_string()
    }
}

/// Gives `path` and everything under it to `uid`.
fn own(path: &Path, uid: u32) {
    chown(path, Some(uid), Some(uid)).expect("chown");
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        own(&entry.path(), uid);
    }
}
