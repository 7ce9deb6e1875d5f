# vnet: build, demo and test entry points. See README.md.

CARGO   ?= cargo
TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release

.PHONY: all build demo test bench clean

all: build

build:
	$(CARGO) build --release

# Attach and detach a tap in a throwaway network namespace (needs root).
demo: build
	BIN=$(BIN) sh scripts/demo.sh

# The whole suite; privileged tests need root and make their own namespaces.
test:
	$(CARGO) test --release

# Timings, sizes and syscall counts in throwaway namespaces. Needs root,
# strace and brctl (bridge-utils); valgrind for instruction counts.
# Rewrites the results section of BENCHMARKS.md.
bench:
	$(CARGO) build --release --bins --example floor
	$(CARGO) bench --bench vnet

clean:
	$(CARGO) clean
