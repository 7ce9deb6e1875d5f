# vnet: build, demo, test, install and package entry points. See README.md.

CARGO   ?= cargo
TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release
BINS    := $(BIN)/vnet-ifup $(BIN)/vnet-ifdown
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)

# make install. The binaries read /etc/vnet/vnet.conf whatever PREFIX is,
# so SYSCONFDIR does not follow PREFIX. Packages use PREFIX=/usr.
PREFIX     ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/vnet
SYSCONFDIR ?= /etc
INSTALL    ?= install

# make deb, make rpm: both package the binaries in $(BIN), from one staged
# tree. cargo test builds those same bytes (Cargo.toml: the tests switch on
# no feature the binaries lack), so after make test nothing is compiled.
PACKAGES := target/packages
STAGE    := $(PACKAGES)/vnet-$(VERSION)
STAGED   := Makefile Cargo.toml README.md LICENSE-MIT LICENSE-APACHE \
            LICENSE.dependencies packaging/vnet.conf packaging/man/vnet-ifup.8 \
            packaging/man/vnet.conf.5 $(BINS)
# Package timestamps come from the last commit, so a rebuild is identical.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

.PHONY: all build demo kernels test install install-bin install-man install-conf \
        install-doc uninstall licenses license-check stage deb rpm \
        packages package-test bench clean

all: build

build:
	$(CARGO) build --release

# install only builds if the binaries are missing; run make first.
$(BINS):
	$(CARGO) build --release

# README.md's two commands, which need no make: build, then attach and
# detach a tap in a throwaway network namespace (scripts/demo.sh); and the
# whole suite, nothing skipped, after installing what it needs and fetching
# the kernels (scripts/test.sh). Both need root.
demo:
	sh scripts/demo.sh

test:
	sh scripts/test.sh

# Debian's kernels for the guest matrix (tests/kernels.rs), unpacked into
# /var/cache/vnet-kernels (or $VNET_KERNELS); needs root and apt.
kernels:
	bash scripts/fetch-kernels.sh

install: install-bin install-man install-conf install-doc

install-bin: $(BINS)
	$(INSTALL) -d $(DESTDIR)$(LIBEXECDIR)
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(LIBEXECDIR)/

install-man:
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 packaging/man/vnet.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 packaging/man/vnet-ifup.8 $(DESTDIR)$(MANDIR)/man8/
	ln -sf vnet-ifup.8 $(DESTDIR)$(MANDIR)/man8/vnet-ifdown.8

# An existing configuration is local work: never overwrite it.
install-conf:
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/vnet
	@conf=$(DESTDIR)$(SYSCONFDIR)/vnet/vnet.conf; \
	if [ -e "$$conf" ]; then \
	    echo "keeping $$conf (the example is packaging/vnet.conf)"; \
	else \
	    echo "$(INSTALL) -m 0644 packaging/vnet.conf $$conf"; \
	    $(INSTALL) -m 0644 packaging/vnet.conf "$$conf"; \
	fi

install-doc:
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 README.md LICENSE-MIT LICENSE-APACHE LICENSE.dependencies \
	    $(DESTDIR)$(DOCDIR)/

# Leaves the configuration, as a package removal does.
uninstall:
	rm -f $(DESTDIR)$(LIBEXECDIR)/vnet-ifup $(DESTDIR)$(LIBEXECDIR)/vnet-ifdown
	rm -f $(DESTDIR)$(MANDIR)/man5/vnet.conf.5 $(DESTDIR)$(MANDIR)/man8/vnet-ifup.8 \
	    $(DESTDIR)$(MANDIR)/man8/vnet-ifdown.8
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/LICENSE-MIT \
	    $(DESTDIR)$(DOCDIR)/LICENSE-APACHE $(DESTDIR)$(DOCDIR)/LICENSE.dependencies
	-rmdir $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/vnet/vnet.conf, if it was there"

# The licenses of what is linked into the binaries, from Cargo.lock.
licenses: build
	sh packaging/license-dependencies.sh >LICENSE.dependencies

license-check: build
	@sh packaging/license-dependencies.sh | diff -u LICENSE.dependencies - || \
	    { echo "LICENSE.dependencies is stale: run make licenses" >&2; exit 1; }

# The tree both packages are built from: the binaries, the documents and
# this Makefile, whose install targets they run.
stage: build license-check
	rm -rf $(STAGE)
	mkdir -p $(STAGE)
	cp -p --parents $(STAGED) $(STAGE)/

# dpkg-buildpackage on a copy of the stage with packaging/debian as debian/;
# debian/changelog is written here, from Cargo.toml's version.
deb: stage
	rm -rf $(PACKAGES)/deb $(PACKAGES)/vnet_*.deb
	mkdir -p $(PACKAGES)/deb
	cp -pr $(STAGE) $(PACKAGES)/deb/
	cp -pr packaging/debian $(PACKAGES)/deb/vnet-$(VERSION)/debian
	{ printf 'vnet (%s) unstable; urgency=medium\n\n' '$(VERSION)'; \
	  printf '  * vnet %s, packaged from the static release binaries.\n\n' '$(VERSION)'; \
	  printf ' -- %s  %s\n' "$$(sed -n 's/^Maintainer: //p' packaging/debian/control)" \
	      "$$(date -u -R -d @$(SOURCE_DATE_EPOCH))"; \
	} >$(PACKAGES)/deb/vnet-$(VERSION)/debian/changelog
	cd $(PACKAGES)/deb/vnet-$(VERSION) && dpkg-buildpackage --build=binary --no-sign
	cp -p $(PACKAGES)/deb/vnet_$(VERSION)_amd64.deb $(PACKAGES)/

# rpmbuild from a tarball of the stage. The build host is Debian, whose rpm
# database is empty, so BuildRequires cannot be checked (--nodeps), and
# whose rpm 4.18 runs brp-compress, a bash script, with dash (#!/bin/sh):
# it would compress no man page unless bash runs it.
rpm: stage
	rm -rf $(PACKAGES)/rpm $(PACKAGES)/vnet-*.rpm
	mkdir -p $(PACKAGES)/rpm/SOURCES
	tar --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner \
	    -C $(PACKAGES) -cf - vnet-$(VERSION) | gzip -9n >$(PACKAGES)/rpm/SOURCES/vnet-$(VERSION).tar.gz
	rpmbuild -bb --nodeps --define '_topdir $(CURDIR)/$(PACKAGES)/rpm' \
	    --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}' \
	    --define 'clamp_mtime_to_source_date_epoch 1' --define 'use_source_date_epoch_as_buildtime 1' \
	    --define 'vnet_version $(VERSION)' packaging/rpm/vnet.spec
	cp -p $(PACKAGES)/rpm/RPMS/x86_64/vnet-$(VERSION)-*.x86_64.rpm $(PACKAGES)/

packages: deb rpm

# Lints and inspects both packages, installs the .deb, runs QEMU against the
# installed binaries, purges it (needs root; see scripts/package-test.sh).
package-test: packages
	bash scripts/package-test.sh

# Timings, sizes and syscall counts in throwaway namespaces. Needs root,
# strace and brctl (bridge-utils); valgrind for instruction counts.
# Rewrites the results section of BENCHMARKS.md.
bench:
	$(CARGO) build --release --bins --example floor
	$(CARGO) bench --bench vnet

clean:
	$(CARGO) clean
