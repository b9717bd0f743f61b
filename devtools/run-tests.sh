#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, builds
# build/, an AddressSanitizer+UBSan tree build-asan/ and a ThreadSanitizer
# tree build-tsan/, runs every suite in build/ and build-asan/ and the core
# suite, the bridge and the NAPI machines under TSan (each sanitized tree
# also runs the canaries showing its sanitizers are live), then prints the
# summary. The last line is
# test-summary.py's `N passed, N failed`; exits non-zero if anything failed.
# Sanitizer options come from the default test set-up in tests/meson.build.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash devtools/setup.sh

SECONDS=0
bh_build build
echo "built build/ in ${SECONDS}s"

SECONDS=0
bh_build build-asan -Db_sanitize=address,undefined -Dbuildtype=debugoptimized \
    -Dbench=false -Db_lundef=false
echo "built build-asan/ in ${SECONDS}s"

SECONDS=0
bh_build build-tsan -Db_sanitize=thread -Dbuildtype=debugoptimized \
    -Dbench=false -Db_lundef=false
echo "built build-tsan/ in ${SECONDS}s"

# A run that dies before writing its log must not be summarised from the last one.
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json

# Failures are counted by test-summary.py, not by meson test's exit code.
SECONDS=0
meson test -C build --no-rebuild --print-errorlogs --num-processes 2 || true
echo "tests in build/ took ${SECONDS}s"

SECONDS=0
meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 2 || true
echo "tests in build-asan/ took ${SECONDS}s"

SECONDS=0
meson test -C build-tsan --no-rebuild --suite core --suite sanitizers --suite bridge --suite napi --print-errorlogs || true
echo "core tests in build-tsan/ took ${SECONDS}s"

exec python3 devtools/test-summary.py build build-asan build-tsan
