#!/bin/sh
# README.md's second command: the whole test suite, with nothing skipped.
# Installs the Debian packages and the Rust target it needs
# (scripts/install-deps.sh test), fetches the kernel matrix's Debian
# kernels into /var/cache/vnet-kernels (scripts/fetch-kernels.sh), then
# runs cargo test --release with CI=true: a test that cannot run here fails
# instead of printing SKIPPED. Arguments go to cargo test
# (sh scripts/test.sh --test attach). Run as root.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "test: run as root (the tests make network namespaces; the kernels go to /var/cache/vnet-kernels): sudo sh scripts/test.sh" >&2
    exit 1
fi
sh scripts/install-deps.sh test
bash scripts/fetch-kernels.sh
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    . "$HOME/.cargo/env"
fi
CI=true cargo test --release "$@"
