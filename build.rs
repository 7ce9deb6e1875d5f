//! Link settings for the two binaries only.

fn main() {
    // vnet never unwinds: panic = "abort", and its panic hook exits before
    // any unwinding could start. So .eh_frame_hdr, the table an unwinder
    // searches, is 6 KiB of dead weight in a 512 KiB budget. Test binaries
    // unwind to report a failed test, so they keep it.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    println!("cargo:rerun-if-changed=build.rs");
}
