#!/usr/bin/env bash
# The project's main job: installs what is missing, builds build/, and runs
# the application. Exits with the application's exit code.
set -euo pipefail

# The program to run and its arguments: EAL arguments, then --, then the
# application's own options.
# bh-l2fwd on two net_null ports (no NIC, no hugepages), statistics every
# second, for 5 seconds, with a JSON summary at the end.
APP=build/apps/bh-l2fwd/bh-l2fwd
APP_ARGS=(--vdev net_null0 --vdev net_null1 -- -p 0x3 -q 2 -T 1 --duration 5 --json -)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash devtools/setup.sh
bh_build build
exec "$APP" "${APP_ARGS[@]}"
