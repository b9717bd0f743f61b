# Sourced by the devtools scripts: moves to the repository root and provides
# the helpers they share, so every script builds a tree the same way.
# shellcheck shell=bash

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# quietly CMD...: runs CMD, showing its output only if it fails.
quietly() {
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        echo "failed: $*" >&2
        return 1
    fi
}

# bh_build DIR [MESON_SETUP_OPTION...]: configures DIR if it is not
# configured yet (the options apply only then), then builds it.
bh_build() {
    local dir=$1
    shift
    [[ -f $dir/meson-private/coredata.dat ]] || quietly meson setup "$dir" "$@"
    quietly ninja -C "$dir" --quiet
}
