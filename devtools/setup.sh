#!/usr/bin/env bash
# Installs the Debian 12 packages bottomhalf needs to build, test and run.
# Idempotent: prints nothing when everything is already installed.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Every tool a test runs is here (the kernel-traffic tests: ip, ss, ping,
# iperf3, ethtool, sysctl; the l2fwd comparison builds DPDK's example with
# make and gcc; the throughput harness's load scenario also taskset and
# gnuplot, its instructions-per-packet column valgrind): a test must never
# be skipped for want of one.
packages=(
    libdpdk-dev dpdk dpdk-dev dpdk-doc
    meson ninja-build pkg-config g++ gcc make
    libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
    python3 iproute2 iperf3 iputils-ping ethtool procps util-linux gnuplot-nox tcpdump valgrind
    doxygen babeltrace
    python3-prometheus-client
    librte-pdump23 librte-net-af-xdp23 libxdp1 libbpf1
)

installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${packages[@]}" 2>/dev/null |
    awk '$1 == "installed" { print $2 }' || true)
missing=()
for p in "${packages[@]}"; do
    grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    if ((EUID != 0)); then
        echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
        exit 1
    fi
    echo "setup.sh: installing ${missing[*]}"
    quietly apt-get update -qq
    quietly env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

meson_version=$(meson --version)
if ! dpkg --compare-versions "$meson_version" ge 1.0; then
    echo "setup.sh: meson $meson_version at $(command -v meson) is too old, need >= 1.0" >&2
    exit 1
fi
