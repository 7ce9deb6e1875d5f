# vnet: build, demo and test entry points. See README.md.

CARGO   ?= cargo
TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release

.PHONY: all build demo kernels test clean

all: build

build:
	$(CARGO) build --release

# Attach and detach a tap in a throwaway network namespace (needs root).
demo: build
	BIN=$(BIN) sh scripts/demo.sh

# Debian's kernels for the guest matrix (tests/kernels.rs), unpacked into
# /var/cache/vnet-kernels (or $VNET_KERNELS); needs root and apt.
kernels:
	bash scripts/fetch-kernels.sh

# The whole suite; privileged tests need root and make their own namespaces,
# and tests/kernels.rs runs them again inside QEMU guests on those kernels.
test: kernels
	$(CARGO) test --release

clean:
	$(CARGO) clean
