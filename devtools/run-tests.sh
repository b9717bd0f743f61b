#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, builds
# build/ and a ThreadSanitizer tree build-tsan/, runs every suite in build/
# and the core suite under TSan, then prints the summary. The last line is
# test-summary.py's `N passed, N failed`; exits non-zero if anything failed.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash devtools/setup.sh

SECONDS=0
bh_build build
echo "built build/ in ${SECONDS}s"

SECONDS=0
bh_build build-tsan -Db_sanitize=thread -Dbuildtype=debugoptimized \
    -Dbench=false -Db_lundef=false
echo "built build-tsan/ in ${SECONDS}s"

# A run that dies before writing its log must not be summarised from the last one.
rm -f build/meson-logs/testlog.json build-tsan/meson-logs/testlog.json

# Failures are counted by test-summary.py, not by meson test's exit code.
SECONDS=0
meson test -C build --no-rebuild --print-errorlogs --num-processes 2 || true
echo "tests in build/ took ${SECONDS}s"

SECONDS=0
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    meson test -C build-tsan --no-rebuild --suite core --print-errorlogs || true
echo "core tests in build-tsan/ took ${SECONDS}s"

exec python3 devtools/test-summary.py build build-tsan
