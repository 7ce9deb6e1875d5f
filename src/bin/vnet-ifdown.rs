//! QEMU's `downscript=`: detach the tap named by the only argument from its bridge.

fn main() -> std::process::ExitCode {
    vnet::cli::main(vnet::cli::Tool::Ifdown)
}
