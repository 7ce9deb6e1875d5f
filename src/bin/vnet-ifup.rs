//! QEMU's `script=`: attach the tap named by the only argument to its bridge.

#[global_allocator]
static ALLOC: vnet::arena::Arena = vnet::arena::Arena;

fn main() -> std::process::ExitCode {
    vnet::cli::main(vnet::cli::Tool::Ifup)
}
