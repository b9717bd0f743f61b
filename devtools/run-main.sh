#!/usr/bin/env bash
# The project's main job: installs what is missing, builds build/, and runs
# the application. Exits with the application's exit code.
set -euo pipefail

# The program to run and its arguments: EAL arguments, then --, then the
# application's own options.
APP=build/apps/bh-demo/bh-demo
APP_ARGS=(-- --duration 5)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash devtools/setup.sh
bh_build build
exec "$APP" "${APP_ARGS[@]}"
