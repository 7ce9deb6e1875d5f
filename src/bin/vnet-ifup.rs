//! QEMU's `script=`: attach the tap named by the only argument to its bridge.

fn main() -> std::process::ExitCode {
    vnet::cli::main(vnet::cli::Tool::Ifup)
}
