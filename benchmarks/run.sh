#!/usr/bin/env bash
# The one benchmark command (issue 5): builds the test hosts (Compose, hand-written, Carter, MVC at N = 10, 100, 1,000),
# measures start-up (JIT and Native AOT), requests/s, build time, analyzer share, AOT size and the generator, and
# writes benchmarks/results/results.json, docs/benchmarks.md and docs/benchmarks-ttfr.png. About 70 minutes on 2 cores with nothing else running (68 measured).
# Usage: bash benchmarks/run.sh [section ...] [--quick]   (sections: see benchmarks/Runner/Program.cs)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# wrk for the requests/s section, clang and zlib for Native AOT, DejaVu for the chart's text.
missing=()
command -v wrk > /dev/null || missing+=(wrk)
command -v clang > /dev/null || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
fi

cd "$repo"
dotnet run -c Release --project benchmarks/Runner -- "$@"
