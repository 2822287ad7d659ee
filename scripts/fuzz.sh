#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer targets of fuzz/ with clang and runs each for a while on its
# seeds (fuzz/corpus/<target>/) and on what earlier runs found:
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 600 s, every target)
# Targets: json message outputsplitter logfile hostconfig redactor.
# An input that crashes, trips a sanitizer, leaks, hangs or uses too much memory is
# kept in <build>/crashes/ (replay: <build>/fuzz/fuzz_<target> <file>), and the
# script fails. Logs go to <build>/logs/, new inputs to <build>/corpus/<target>/.
# Environment:
#   AGENTDECK_FUZZ_DIR   build directory (default: build-fuzz)
#   AGENTDECK_FUZZ_JOBS  targets run at once (default: the number of cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AGENTDECK_FUZZ_DIR:-$root/build-fuzz}"
jobs="${AGENTDECK_FUZZ_JOBS:-$(nproc)}"
all=(json message outputsplitter logfile hostconfig redactor)

seconds="${1:-600}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [seconds-per-target] [target...]   targets: ${all[*]}" >&2
    exit 2
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
    if [[ " ${all[*]} " != *" $t "* ]]; then
        echo "unknown target '$t'; targets: ${all[*]}" >&2
        exit 2
    fi
done

# clang, and libFuzzer with the sanitizer runtimes (libclang-rt-14-dev, which clang
# only recommends); llvm-14 for llvm-symbolizer, so that reports name functions and lines.
"$root/scripts/install-deps.sh"
fuzz_packages=(clang libclang-rt-14-dev llvm-14)
missing=()
for p in "${fuzz_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debug keeps Q_ASSERT; -O1 keeps it fast enough to fuzz. Only the targets and the
# libraries they link are built, not the applications or the tests.
if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja \
        -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
        -DAGENTDECK_FUZZ=ON -DAGENTDECK_WERROR=ON \
        -DAGENTDECK_BUILD_TESTS=OFF -DAGENTDECK_BUILD_BENCH=OFF -DAGENTDECK_BUILD_GUI=OFF >/dev/null
fi
cmake --build "$build" --target fuzzers --parallel "$(nproc)"

mkdir -p "$build/crashes" "$build/logs"
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# Longer inputs where a target needs them: log files past the reader's 8 KiB search
# window, output past the splitter's line limit.
max_len() {
    case "$1" in
    logfile) echo 32768 ;;
    outputsplitter) echo 16384 ;;
    *) echo 8192 ;;
    esac
}

run() {
    local t="$1"
    mkdir -p "$build/corpus/$t"
    # The first folder gets what this run finds; the seeds are only read.
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$t-" "$build/corpus/$t" "$root/fuzz/corpus/$t" \
        >"$build/logs/$t.log" 2>&1
}

# One line per target: executions, speed, coverage (edges) and features.
summary() {
    local t="$1" status="$2" log="$build/logs/$1.log"
    local runs speed cov
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -o '[0-9]*$' || true)
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*' || true)
    printf '%-15s %s  %9s runs  %7s exec/s  %s\n' "$t" "$status" "${runs:-?}" "${speed:-?}" "${cov:-}"
}

failed=()
declare -A pids=()
finish_one() {
    local pid t status
    wait -n -p pid "${!pids[@]}" && status=ok || status=FAILED
    t="${pids[$pid]}"
    unset "pids[$pid]"
    summary "$t" "$status"
    if [ "$status" != ok ]; then
        failed+=("$t")
        grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written' "$build/logs/$t.log" | head -20 || true
    fi
}

echo "== fuzzing ${targets[*]} for $seconds s each, $jobs at a time (logs: $build/logs) =="
for t in "${targets[@]}"; do
    [ "${#pids[@]}" -ge "$jobs" ] && finish_one
    run "$t" &
    pids[$!]="$t"
done
while [ "${#pids[@]}" -gt 0 ]; do
    finish_one
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}; inputs are in $build/crashes/" >&2
    exit 1
fi
echo "no crashes"
