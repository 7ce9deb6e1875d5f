//! Kernel modules for the guest, taken from the unpacked Debian package.
//! The package ships no modules.dep (depmod writes it when the package is
//! installed, and we install nothing), so each module's own `.modinfo`
//! section names what it depends on, as modpost recorded it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `wanted` and everything they need, dependencies first, so busybox
/// `insmod` can load them in this order: (name, uncompressed `.ko`).
/// Modules built into the kernel are left out.
pub fn resolve(modules_dir: &Path, wanted: &[&str]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut index = BTreeMap::new();
    walk(&modules_dir.join("kernel"), &mut index)?;
    let builtin = modules_dir.join("modules.builtin");
    let builtin: HashSet<String> = std::fs::read_to_string(&builtin)
        .map_err(|e| format!("{}: {e}", builtin.display()))?
        .lines()
        .filter_map(|line| module_name(Path::new(line)))
        .collect();
    let mut loader = Loader {
        index,
        builtin,
        seen: HashSet::new(),
        order: Vec::new(),
    };
    for name in wanted {
        loader.visit(&name.replace('-', "_"))?;
    }
    Ok(loader.order)
}

struct Loader {
    index: BTreeMap<String, PathBuf>,
    builtin: HashSet<String>,
    seen: HashSet<String>,
    order: Vec<(String, Vec<u8>)>,
}

impl Loader {
    fn visit(&mut self, name: &str) -> Result<(), String> {
        if self.builtin.contains(name) || !self.seen.insert(name.to_owned()) {
            return Ok(());
        }
        let path = self.index.get(name).ok_or_else(|| {
            format!("module {name} is neither built in nor in the kernel package")
        })?;
        let ko = uncompressed(path)?;
        let deps = depends(&ko).map_err(|e| format!("{}: {e}", path.display()))?;
        for dep in deps {
            self.visit(&dep)?;
        }
        self.order.push((name.to_owned(), ko));
        Ok(())
    }
}

/// Every module file under `dir`, by module name.
fn walk(dir: &Path, index: &mut BTreeMap<String, PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, index)?;
        } else if let Some(name) = module_name(&path) {
            index.insert(name, path);
        }
    }
    Ok(())
}

/// `kernel/net/bridge/bridge.ko.xz` is module `bridge`. The kernel spells
/// module names with `_` where file names may have `-`.
fn module_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    Some(stem.replace('-', "_"))
}

/// The module as `init_module` takes it. Debian compresses 6.12's modules
/// with xz; busybox `insmod` may not decompress, so the host does.
fn uncompressed(path: &Path) -> Result<Vec<u8>, String> {
    let file = path.to_string_lossy();
    if file.ends_with(".ko") {
        return std::fs::read(path).map_err(|e| format!("{file}: {e}"));
    }
    if !file.ends_with(".ko.xz") {
        return Err(format!("{file}: only .ko and .ko.xz modules are handled"));
    }
    let out = Command::new("xz")
        .args(["-dc", "--"])
        .arg(path)
        .output()
        .map_err(|e| format!("xz (xz-utils) for {file}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "xz -dc {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// The `depends=` field of an ELF64 module's `.modinfo` section, which
/// holds NUL-separated `key=value` strings.
fn depends(ko: &[u8]) -> Result<Vec<String>, String> {
    let bytes = |at: usize, n: usize| ko.get(at..at + n).ok_or("truncated ELF file");
    let num = |at: usize, n: usize| -> Result<usize, String> {
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(bytes(at, n)?);
        Ok(u64::from_le_bytes(le) as usize)
    };
    if bytes(0, 5)? != b"\x7fELF\x02" {
        return Err("not an ELF64 file".into());
    }
    let (shoff, shentsize, shnum) = (num(0x28, 8)?, num(0x3a, 2)?, num(0x3c, 2)?);
    // Section i's header: sh_name (offset into the names), sh_offset, sh_size.
    let section = |i: usize| -> Result<(usize, usize, usize), String> {
        let h = shoff + i * shentsize;
        Ok((num(h, 4)?, num(h + 0x18, 8)?, num(h + 0x20, 8)?))
    };
    let (_, names, _) = section(num(0x3e, 2)?)?;
    for i in 0..shnum {
        let (name, offset, size) = section(i)?;
        let named = ko.get(names + name..).unwrap_or_default();
        if !named.starts_with(b".modinfo\0") {
            continue;
        }
        let info = bytes(offset, size)?;
        let field = info
            .split(|b| *b == 0)
            .find_map(|f| f.strip_prefix(b"depends="));
        let list = String::from_utf8_lossy(field.unwrap_or_default());
        let deps = list.split(',').filter(|d| !d.is_empty());
        return Ok(deps.map(|d| d.replace('-', "_")).collect());
    }
    Err("no .modinfo section".into())
}
