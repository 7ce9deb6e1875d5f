//! Domain XML for libvirt, and a probe script that records the tap it is
//! given.

use std::os::unix::fs::PermissionsExt;

use super::Libvirtd;
use crate::common::{IFDOWN, IFUP};

/// A paused TCG domain with no disk and `interfaces` as its only devices
/// besides what libvirt adds.
pub fn domain(name: &str, interfaces: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
{interfaces}  </devices>
</domain>
"
    )
}

/// README's `<interface type='ethernet'>` with the binaries under test as
/// its scripts; `target` is the `<target>` element.
pub fn ethernet(mac: &str, target: &str) -> String {
    let scripts = format!(
        "<script path='{}'/>\n      <downscript path='{}'/>",
        *IFUP, *IFDOWN
    );
    interface(mac, target, &scripts)
}

/// An `<interface type='ethernet'>` with `scripts` as its script elements.
/// `<rom enabled='no'/>` spares QEMU an iPXE image it would never run.
pub fn interface(mac: &str, target: &str, scripts: &str) -> String {
    format!(
        "    <interface type='ethernet'>
      <mac address='{mac}'/>
      {target}
      <model type='virtio'/>
      <rom enabled='no'/>
      {scripts}
    </interface>
"
    )
}

impl Libvirtd {
    /// A `<script>` that records what `ip -d -j link` says of its tap when
    /// libvirt runs it; [`Libvirtd::probed`] reads that back.
    pub fn probe_script(&self) -> String {
        let path = self.dir.join("probe.sh");
        let text = "#!/bin/sh\nexec ip -d -j link show dev \"$1\" > \"/run/probe-$1.json\"\n";
        std::fs::write(&path, text).expect("write the probe");
        std::fs::set_permissions(&path, PermissionsExt::from_mode(0o755)).expect("chmod");
        format!("<script path='{}'/>", path.display())
    }

    /// What the probe script saw of `tap`.
    pub fn probed(&self, tap: &str) -> serde_json::Value {
        let path = self.dir.join(format!("run/probe-{tap}.json"));
        let text = std::fs::read_to_string(&path).expect("the probe's output");
        serde_json::from_str::<serde_json::Value>(&text).expect("ip -j output")[0].clone()
    }
}
