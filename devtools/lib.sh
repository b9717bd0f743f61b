# Sourced by the devtools scripts: moves to the repository root and provides
# the one build step they share, so every script builds a tree the same way.
# shellcheck shell=bash

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# bh_build DIR [MESON_SETUP_OPTION...]: configure DIR if it is not configured
# yet (the options apply only then), then build it. Prints compiler output and
# errors only.
bh_build() {
    local dir=$1 out
    shift
    if [[ ! -f $dir/meson-private/coredata.dat ]]; then
        if ! out=$(meson setup "$dir" "$@" 2>&1); then
            printf '%s\n' "$out" >&2
            echo "meson setup $dir failed" >&2
            return 1
        fi
    fi
    ninja -C "$dir" --quiet
}
