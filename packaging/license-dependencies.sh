#!/bin/sh
# Prints LICENSE.dependencies: what, besides vnet's own code, is linked
# into the static binaries, under which licenses, with each crate's
# license text (the MIT one where a crate offers a choice). Both packages
# ship it. "make licenses" rewrites it from Cargo.lock; "make deb" and
# "make rpm" refuse to package a stale one (make license-check).
set -eu

cargo=${CARGO:-cargo}
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src

# Crates compiled into the binaries: normal dependencies, not proc-macros
# or build scripts, which only run at build time.
crates=$("$cargo" tree --locked --offline -e normal,no-proc-macro \
    --target x86_64-unknown-linux-musl --prefix none --format '{p}|{l}' |
    sed 's/ (\*)$//' | grep -v '^vnet ' | sort -u)

cat <<'TEXT'
Licenses of the code linked into vnet-ifup and vnet-ifdown
==========================================================

The two programs are static executables. vnet's own code is MIT OR
Apache-2.0 (LICENSE-MIT, LICENSE-APACHE). They also contain:

- the Rust standard library, MIT OR Apache-2.0;
- from Rust's x86_64-unknown-linux-musl target, musl libc (MIT) and
  LLVM's libunwind (Apache-2.0 WITH LLVM-exception);
- these crates, as Cargo.lock pins them:

TEXT
echo "$crates" | awk -F'|' '{ printf "  %-26s %s\n", $1, $2 }'
echo
echo "Each crate's license follows; where a crate offers a choice, vnet"
echo "uses it under the MIT license."

echo "$crates" | while IFS='|' read -r crate _license; do
    name=${crate% v*}
    version=${crate##* v}
    dir=
    for d in "$registry"/*/"$name-$version"; do
        if [ -d "$d" ]; then dir=$d; break; fi
    done
    if [ -z "$dir" ]; then
        echo "license-dependencies.sh: no sources of $name $version under $registry" >&2
        exit 1
    fi
    for file in LICENSE-MIT LICENSE; do
        [ -f "$dir/$file" ] && break
    done
    if [ ! -f "$dir/$file" ]; then
        echo "license-dependencies.sh: $name $version has neither LICENSE-MIT nor LICENSE" >&2
        exit 1
    fi
    printf '\n\n%s %s (%s)\n' "$name" "$version" "$file"
    echo "------------------------------------------------------------"
    echo
    # Trailing blanks and blank lines are dropped so the output is stable.
    sed -e 's/[[:space:]]*$//' "$dir/$file" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
done
