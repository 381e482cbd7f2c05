#!/usr/bin/env bash
# make test-arm: the aarch64 tier. Runs edge_ocr on a Debian 12 (Raspberry Pi OS Bookworm) arm64
# userland with CPython 3.11 under qemu-user, on LiteRT and on tflite-runtime 2.14 + numpy<2, and
# compares its results with the x86 .venv run of the same versions. README: "make test-arm".
#
# Installs what it needs (apt: qemu-user-static, debootstrap; scripts/setup.sh test for the x86
# venvs); builds and caches under $EDGE_OCR_ARM_CACHE (default /var/cache/edge-ocr-test/arm64):
#   root/                  the arm64 bookworm root (debootstrap --foreign, unpacked with dpkg-deb)
#   wheels/                the aarch64 cp311 wheels downloaded from PyPI
#   site-litert-<hash>/    pip --target folders, one per pinned set (hash of the pins)
#   site-tflite-<hash>/
#   last-run/              the latest run's logs, outputs and store (replaced on each run)
# Clear it with: rm -rf /var/cache/edge-ocr-test/arm64   (or set EDGE_OCR_ARM_FRESH=1)
#
# Settings (environment):
#   EDGE_OCR_ARM_CACHE   cache folder (above)
#   EDGE_OCR_ARM_CPU     cortex-a72 (Pi 4/400/CM4, default) | cortex-a53 (Pi Zero 2 W, Pi 3) |
#                        cortex-a76 (Pi 5: XNNPACK takes its fp16 kernels, ~10x slower emulated)
#   EDGE_OCR_ARM_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   EDGE_OCR_ARM_TESTS   "subset" (default), "engine" (all engine tests that need no exec), or
#                        pytest node ids separated by spaces
#   EDGE_OCR_ARM_TIMEOUT seconds one emulated command may take (default 1500; raise it for "engine")
#   EDGE_OCR_ARM_JOBS    2 (default): the LiteRT and tflite-runtime lanes run side by side; 1: one after the other
#   EDGE_OCR_ARM_FRESH   1: delete the cache first (a cold run)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
CACHE="${EDGE_OCR_ARM_CACHE:-/var/cache/edge-ocr-test/arm64}"
CPU="${EDGE_OCR_ARM_CPU:-cortex-a72}"
MIRROR="${EDGE_OCR_ARM_MIRROR:-http://deb.debian.org/debian}"
TESTS="${EDGE_OCR_ARM_TESTS:-subset}"
JOBS="${EDGE_OCR_ARM_JOBS:-2}"
TIMEOUT="${EDGE_OCR_ARM_TIMEOUT:-1500}"
SUITE=bookworm
PYVER=3.11
# The root's recipe; a change here (or in the package list) rebuilds the cached root.
ROOT_RECIPE=1
ROOT_PACKAGES="python3.11,libzbar0,libstdc++6,libgomp1,fonts-dejavu-core"
# The engine tests run under emulation by default (why these: README, "make test-arm").
SUBSET=(
  "tests/test_models_runtime.py::test_tflite_outputs_match_the_onnx_originals"
  "tests/test_models_runtime.py::test_truncated_model_with_matching_hash_still_fails_clearly"
  "tests/test_models_runtime.py::test_a_load_error_from_the_runtime_stays_visible"
  "tests/test_pipeline.py::test_clean_label_is_read_exactly_in_reading_order"
  "tests/test_pipeline.py::test_upside_down_page_is_read_by_flipping_lines"
)
# Engine tests that start a child process with sys.executable: an emulated program cannot exec an
# aarch64 binary without binfmt_misc, which this tier does not use (README).
NEEDS_EXEC=(
  "tests/test_models_runtime.py::test_scan_prints_no_runtime_chatter_on_stderr"
  "tests/test_pipeline.py::test_a_strip_far_wider_than_any_line_is_not_read_as_one"
  "tests/test_cli_scan.py::test_usage_errors_exit_2"
  "tests/test_cli_other.py::test_bench_reports_every_figure_and_the_verdict"
  "tests/test_cli_other.py::test_bench_fails_when_the_device_is_too_slow"
)
SAMPLES=(edge_ocr/samples/*.jpg edge_ocr/samples/*.png)

say() { echo "[test-arm] $*"; }
T_START=$SECONDS

# --- host tools and the x86 side ------------------------------------------------------------
APT_WHO=test-arm
source scripts/apt.sh

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (chroot for ldconfig in the arm64 root, and the cache under /var/cache)" >&2
  exit 2
fi
apt_install qemu-user-static debootstrap
QEMU="$(command -v qemu-aarch64-static)"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9  # one run at a time per cache
if [ "${EDGE_OCR_ARM_FRESH:-0}" = 1 ]; then
  say "EDGE_OCR_ARM_FRESH=1: clearing $CACHE"
  find "$CACHE" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
fi
RUN="$CACHE/last-run"
rm -rf "$RUN"
mkdir -p "$RUN/logs"
LOGS="$RUN/logs"
RESULTS="$RUN/results.txt"
: >"$RESULTS"

# CPU seconds used so far by the finished children of this (sub)shell: cutime + cstime.
TICKS=$(getconf CLK_TCK)
# (sets CHILD_CPU; not called in $(...), which would be a subshell of its own)
child_cpu() {
  local stat
  read -r -a stat <"/proc/$BASHPID/stat"
  CHILD_CPU=$(((stat[15] + stat[16]) / TICKS))
}

# step NAME COMMAND...: run it with its output in $LOGS/NAME.log; record status, wall and CPU seconds.
step() {
  local name=$1 t0=$SECONDS c0 rc=0
  shift
  child_cpu
  c0=$CHILD_CPU
  "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  child_cpu
  local dt=$((SECONDS - t0)) cpu=$((CHILD_CPU - c0))
  echo "$name $rc $dt $cpu" >>"$RESULTS"
  if [ $rc -eq 0 ]; then
    say "ok    $name (${dt} s, CPU ${cpu} s)"
  else
    say "FAIL  $name (${dt} s, CPU ${cpu} s, exit $rc); the end of $LOGS/$name.log:"
    tail -n 40 "$LOGS/$name.log" | sed 's/^/    /'
  fi
  return $rc
}
say "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
step x86-setup scripts/setup.sh test || exit 1

# --- the arm64 root -------------------------------------------------------------------------
ROOT="$CACHE/root"
ROOT_KEY="recipe=$ROOT_RECIPE suite=$SUITE packages=$ROOT_PACKAGES"
build_root() {
  local new="$CACHE/root.new"
  rm -rf "$new" "$ROOT"
  debootstrap --arch=arm64 --foreign --variant=minbase --include="$ROOT_PACKAGES" "$SUITE" "$new" "$MIRROR"
  # No second stage: unpacking every package is enough to run Python (no maintainer scripts).
  for deb in "$new"/var/cache/apt/archives/*.deb; do
    dpkg-deb --fsys-tarfile "$deb" | tar -C "$new" --keep-directory-symlink -xf -
  done
  rm -f "$new"/var/cache/apt/archives/*.deb
  cp "$QEMU" "$new/usr/bin/qemu-aarch64-static"
  # The root's own ld.so.cache, written by its own ldconfig inside it (never with -L: that would
  # write the host's cache).
  chroot "$new" /usr/bin/qemu-aarch64-static /sbin/ldconfig
  # LiteRT/XNNPACK read /proc/cpuinfo; under QEMU the guest would see the host's x86 one (and
  # LiteRT segfaults in allocate_tensors). With -L, QEMU looks in the root first: a real folder.
  rm -f "$new/proc"
  mkdir -p "$new/proc"
  echo "$ROOT_KEY" >"$new/.edge-ocr-root-key"
  mv "$new" "$ROOT"
}
if [ ! -f "$ROOT/.edge-ocr-root-key" ] || [ "$(cat "$ROOT/.edge-ocr-root-key")" != "$ROOT_KEY" ]; then
  step arm64-root build_root || exit 1
else
  echo "arm64-root 0 0 0" >>"$RESULTS"
  say "ok    arm64-root (cached: $ROOT)"
fi

# /proc/cpuinfo of the emulated board, matching the CPU model QEMU emulates (its HWCAPs).
write_cpuinfo() {
  local variant part revision features n
  case "$CPU" in
    cortex-a72) variant=0x0 part=0xd08 revision=3 features="fp asimd evtstrm crc32 cpuid" ;;
    cortex-a53) variant=0x0 part=0xd03 revision=4 features="fp asimd evtstrm crc32 cpuid" ;;
    cortex-a76)
      variant=0x4 part=0xd0b revision=1
      features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"
      ;;
    *) say "EDGE_OCR_ARM_CPU: unknown CPU $CPU (cortex-a72, cortex-a53, cortex-a76)" >&2; exit 2 ;;
  esac
  n=$(nproc --all)
  for ((i = 0; i < n; i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' "$i" "$features"
    printf 'CPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %s\n\n' "$variant" "$part" "$revision"
  done >"$ROOT/proc/cpuinfo"
}
write_cpuinfo

# --- the aarch64 wheels: one site folder per pinned set ---------------------------------------
PLATFORMS=(--platform manylinux2014_aarch64)
for minor in $(seq 17 36); do  # glibc 2.36 is bookworm's
  PLATFORMS+=(--platform "manylinux_2_${minor}_aarch64")
done
PIP=(.venv/bin/python -m pip)
WHEEL_ARGS=(--only-binary=:all: "${PLATFORMS[@]}" --python-version "$PYVER" --implementation cp --abi "cp${PYVER/./}")

# make_site NAME PINS_FILE: $CACHE/site-NAME-<hash of the pins>, fetched and installed once.
make_site() {
  local name=$1 pins=$2 hash dir
  hash=$(cat "$pins" <(printf '%s\n' "${WHEEL_ARGS[@]}") | sha256sum | cut -c1-12)
  dir="$CACHE/site-$name-$hash"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir" "$CACHE"/site-"$name"-*
    mkdir -p "$CACHE/wheels"
    # From the cache when it has every wheel, else from PyPI into the cache.
    if ! "${PIP[@]}" install -q --no-index --find-links "$CACHE/wheels" "${WHEEL_ARGS[@]}" \
      --target "$dir" -r "$pins" 2>/dev/null; then
      rm -rf "$dir"
      "${PIP[@]}" download -q "${WHEEL_ARGS[@]}" -d "$CACHE/wheels" -r "$pins"
      "${PIP[@]}" install -q --no-index --find-links "$CACHE/wheels" "${WHEEL_ARGS[@]}" --target "$dir" -r "$pins"
    fi
    cp "$pins" "$dir/.pins"
    touch "$dir/.complete"
  fi
  echo "$dir" >"$RUN/site-$name.path"
}
sites() {
  .venv/bin/python -m tests.arm.pins >"$RUN/pins-litert.txt"
  .venv-tflite/bin/python -m tests.arm.pins --tflite >"$RUN/pins-tflite.txt"
  echo "LiteRT set (from .venv):"
  cat "$RUN/pins-litert.txt"
  echo "tflite-runtime set (from .venv-tflite):"
  cat "$RUN/pins-tflite.txt"
  make_site litert "$RUN/pins-litert.txt"
  make_site tflite "$RUN/pins-tflite.txt"
}
step aarch64-wheels sites || exit 1
SITE_LITERT="$(cat "$RUN/site-litert.path")"
SITE_TFLITE="$(cat "$RUN/site-tflite.path")"

# guest_python LANE: sets GUEST_PYTHON to the root's python3.11 under QEMU with only that lane's site
# folder and runtime; the checkout's edge_ocr and tests come from the working tree (as in the editable
# x86 venv). guest LANE ARGS...: runs it under the step timeout.
guest_python() {
  local site runtime
  case "$1" in
    litert) site=$SITE_LITERT runtime=litert ;;
    tflite) site=$SITE_TFLITE runtime=tflite_runtime ;;
  esac
  GUEST_PYTHON=(env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 TZ=UTC QEMU_CPU="$CPU"
    EDGE_OCR_ARM_ROOT="$ROOT" EDGE_OCR_RUNTIME="$runtime" PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1
    PYTHONPATH="$REPO/tests/arm/guest:$site:$REPO" "$QEMU" -L "$ROOT" "$ROOT/usr/bin/python$PYVER")
}
guest() {
  local GUEST_PYTHON
  guest_python "$1"
  shift
  timeout "$TIMEOUT" "${GUEST_PYTHON[@]}" "$@"
}

engine_tests() {
  local lane=$1 args=()
  case "$TESTS" in
    subset) args=("${SUBSET[@]}") ;;
    engine)
      args=(-m engine tests)
      for t in "${NEEDS_EXEC[@]}"; do args+=(--deselect "$t"); done
      ;;
    *) read -r -a args <<<"$TESTS" ;;
  esac
  guest "$lane" -m pytest -q -p no:cacheprovider --basetemp="$RUN/pytest-$lane" --durations=5 "${args[@]}"
}

scan_arm() { guest "$1" -m edge_ocr scan --format jsonl "${SAMPLES[@]}" >"$RUN/scan-$1-aarch64.jsonl"; }
scan_x86() {
  .venv/bin/edge-ocr scan --format jsonl "${SAMPLES[@]}" >"$RUN/scan-litert-x86_64.jsonl"
  EDGE_OCR_RUNTIME=tflite_runtime .venv-tflite/bin/edge-ocr scan --format jsonl "${SAMPLES[@]}" \
    >"$RUN/scan-tflite-x86_64.jsonl"
}
compare() {
  .venv/bin/python -m tests.arm.compare_scans "$RUN/scan-$1-x86_64.jsonl" "$RUN/scan-$1-aarch64.jsonl" \
    --box-px 1 --conf 0.03 --json "$RUN/compare-$1.json"
}

lane() {  # lane NAME: everything one runtime runs under emulation, in order
  local lane=$1 rc=0
  step "$lane-report" guest "$lane" -m tests.arm.guest_report --runtime "${lane/tflite/tflite_runtime}" \
    --root "$ROOT" --json "$RUN/report-$lane.json" || rc=1
  if [ "$lane" = litert ]; then
    step models-verify guest litert -m edge_ocr models verify || rc=1
  fi
  step "$lane-engine-tests" engine_tests "$lane" || rc=1
  step "$lane-scan" scan_arm "$lane" || rc=1
  return $rc
}

step x86-scan scan_x86 || true
say "emulating $CPU; lanes: litert, tflite (side by side: $([ "$JOBS" -ge 2 ] && echo yes || echo no))"
FAILED=0
if [ "$JOBS" -ge 2 ]; then
  lane tflite &
  TFLITE_PID=$!
  lane litert || FAILED=1
  wait "$TFLITE_PID" || FAILED=1
else
  lane litert || FAILED=1
  lane tflite || FAILED=1
fi
for l in litert tflite; do
  step "$l-compare" compare "$l" || FAILED=1
done

# --- a short daemon run on the bundled footage, then search --------------------------------
cat >"$RUN/run.toml" <<EOF
[device]
id = "arm64-emulated"
[source]
kind = "video"
path = "$REPO/edge_ocr/samples/footage.avi"
realtime = false
[mqtt]
enabled = false
EOF
short_run() {
  local GUEST_PYTHON
  guest_python litert
  .venv/bin/python tests/arm/short_run.py --state-dir "$RUN/state" --timeout 900 -- \
    "${GUEST_PYTHON[@]}" -m edge_ocr run --config "$RUN/run.toml" --state-dir "$RUN/state"
}
search() {
  guest litert -m edge_ocr search --state-dir "$RUN/state" pump station | tee "$RUN/search-text.txt"
  guest litert -m edge_ocr search --state-dir "$RUN/state" --codes assets | tee "$RUN/search-codes.txt"
  grep -q "STATION" "$RUN/search-text.txt" && grep -q "00417-PS3" "$RUN/search-codes.txt"
}
if step run-footage short_run; then
  step search search || FAILED=1
else
  FAILED=1
fi

# --- summary ----------------------------------------------------------------------------------
echo
say "summary (emulated $CPU, Debian $SUITE arm64, Python $PYVER; logs in $LOGS):"
for l in litert tflite; do
  [ -f "$LOGS/$l-report.log" ] && sed -n '1,3p' "$LOGS/$l-report.log" | sed "s/^/    $l: /"
done
printf '    %-22s %-5s %6s %6s\n' step result wall CPU
while read -r name rc secs cpu; do
  printf '    %-22s %-5s %4d s %4d s' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$secs" "$cpu"
  case "$name" in
    *-engine-tests) printf '   %s' "$(grep -E '(passed|failed|error)' "$LOGS/$name.log" | tail -n 1)" ;;
    *-compare) printf '   %s' "$(grep -E 'max box diff' "$LOGS/$name.log" | sed 's/^ *//')" ;;
    run-footage)
      printf '   %s; daemon ERROR lines: %s' "$(grep -E '^short-run' "$LOGS/$name.log" | sed 's/^short-run: //; s/; frames.*//')" \
        "$(grep -c ' ERROR ' "$LOGS/$name.log" || true)"
      ;;
  esac
  echo
done <"$RESULTS"
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
say "total $((SECONDS - T_START)) s: $([ $FAILED -eq 0 ] && echo PASSED || echo FAILED)"
exit $FAILED
