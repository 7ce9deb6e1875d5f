//! Link settings for the two binaries only.

fn main() {
    // vnet never unwinds: panic = "abort", and its panic hook exits before
    // any unwinding could start. So the unwind tables (.eh_frame, ~36 KiB)
    // and the index an unwinder searches (.eh_frame_hdr, 6 KiB) are dead
    // weight in a 512 KiB budget. Test binaries unwind to report a failed
    // test, so they keep both.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/link.ld");
    println!("cargo:rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link.ld");
}
