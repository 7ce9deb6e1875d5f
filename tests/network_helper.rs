//! A privileged helper (vnet-ifup with cap_net_admin, run by an ordinary
//! user) on a [network]: it attaches to a network root set up, and refuses
//! one that is not, naming the command, starting no dnsmasq and adding no
//! rule. As in tests/unprivileged.rs, each run binds a staged /etc over
//! the real one in `ip netns exec`'s private mount namespace; there /run is
//! a tmpfs whose /run/vnet is the test's runtime directory.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::Command;

use common::network::Net;
use common::Run;

const ALICE: u32 = 4201;

const CONFIG: &str = "bridge = nat0
[network nat0]
address = 10.77.0.1/24
forward = nat
dhcp-range = 10.77.0.100 10.77.0.199
[access nat0]
allow = 4201
";

struct Helper {
    net: Net,
    root: PathBuf,
    /// The staged /dev/log, so audit lines reach the test, not the host.
    _syslog: UnixDatagram,
}

impl Helper {
    fn new() -> Option<Helper> {
        let net = Net::new(CONFIG)?;
        let root = net.ns.path("helper");
        for dir in ["bin", "etc/vnet", "dev"] {
            fs::create_dir_all(root.join(dir)).expect("staging directory");
        }
        let copy = root.join("bin/vnet-ifup");
        fs::copy(&*common::IFUP, &copy).expect("copy binary");
        common::run_ok(
            "setcap",
            &["cap_net_admin+ep", copy.to_str().expect("path")],
        );
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nalice:x:4201:4201::/:/bin/sh\n",
        )
        .expect("passwd");
        fs::write(root.join("etc/group"), "root:x:0:\nalice:x:4201:\n").expect("group");
        fs::write(root.join("etc/vnet/vnet.conf"), CONFIG).expect("vnet.conf");
        // The helper trusts only root's files in root's directories.
        let mut dir = root.clone();
        while dir != std::path::Path::new("/") {
            let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
            dir.pop();
        }
        for (file, mode) in [
            ("etc", 0o755),
            ("etc/vnet", 0o755),
            ("etc/vnet/vnet.conf", 0o644),
        ] {
            fs::set_permissions(root.join(file), fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let syslog = UnixDatagram::bind(root.join("dev/log")).expect("test syslog socket");
        fs::set_permissions(root.join("dev/log"), fs::Permissions::from_mode(0o666))
            .expect("chmod");
        fs::create_dir_all(&net.run_dir).expect("runtime directory");
        net.ns.ip(&[
            "tuntap", "add", "dev", "vm-a0", "mode", "tap", "user", "4201",
        ]);
        Some(Helper {
            net,
            root,
            _syslog: syslog,
        })
    }

    /// The capable vnet-ifup as alice, with /etc and /run/vnet staged.
    fn ifup_as_alice(&self, args: &[&str]) -> Run {
        let (root, run) = (self.root.display(), self.net.run_dir.display());
        let script = format!(
            "mount --bind {root}/etc /etc && mount --bind {root}/dev /dev && mount -t tmpfs run /run && mkdir /run/vnet && \
             mount --bind {run} /run/vnet && \
             exec setpriv --reuid={ALICE} --regid={ALICE} --clear-groups {root}/bin/vnet-ifup \"$@\""
        );
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.net.ns.name,
                "/bin/sh",
                "-c",
                &script,
                "sh",
            ])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .expect("run");
        Run::from(out)
    }
}

#[test]
fn a_helper_attaches_to_a_network_root_set_up() {
    let Some(h) = Helper::new() else { return };
    h.net.vnet(&["--network-up", "nat0"], &[]).expect(0);
    let set_up = h.net.snapshot();
    h.ifup_as_alice(&["vm-a0"]).expect(0);
    assert_eq!(
        h.net.ns.link("vm-a0").expect("tap").master.as_deref(),
        Some("nat0")
    );
    // Attaching changes the links (and their carrier, hence routes' flags);
    // the network itself is left alone.
    let now = h.net.snapshot();
    for key in ["ruleset", "files", "dnsmasq", "forward"] {
        assert_eq!(now[key], set_up[key], "the helper changed {key}");
    }
    let v4 = |h: &Helper| h.net.ns.ip(&["-4", "-o", "addr", "show", "dev", "nat0"]);
    assert!(v4(&h).contains("inet 10.77.0.1/24"));
    assert_eq!(v4(&h).lines().count(), 1);
    assert_eq!(h.net.dnsmasqs().len(), 1);
}

#[test]
fn a_helper_refuses_a_network_not_set_up_and_names_the_command() {
    let Some(h) = Helper::new() else { return };
    let before = h.net.snapshot();
    let run = h.ifup_as_alice(&["vm-a0"]);
    assert_eq!(
        run.expect(1).one_line(),
        "vnet-ifup: cannot attach vm-a0 to bridge nat0: network nat0: not set up yet (missing: \
         bridge nat0, up, address 10.77.0.1/24, nftables chains postrouting-nat0, forward-nat0 \
         in table inet vnet, dnsmasq, net.ipv4.ip_forward = 1), and a privileged helper never \
         sets networks up: as root, run \"vnet-ifup --network-up nat0\""
    );
    assert_eq!(h.net.snapshot(), before);
    assert!(h.net.dnsmasqs().is_empty() && !h.net.has_vnet_table());

    let run = h.ifup_as_alice(&["--network-up", "nat0"]);
    let line = run.expect(1).one_line().to_owned();
    assert!(
        line.starts_with("vnet-ifup: cannot set up network nat0: user alice (uid 4201) is served as a privileged helper"),
        "{line}"
    );
    assert_eq!(h.net.snapshot(), before);
}
