#!/bin/sh
# Check systemd/edge-ocr.service (optionally with drop-ins) with systemd's own tools:
#   systemd-analyze verify                     (syntax, unknown keys, bad values: must print nothing)
#   systemd-analyze security --offline=true    (exposure level: must be <= THRESHOLD, default 2.5)
#
# usage: systemd/verify.sh [DROPIN.conf ...]
#   EDGE_OCR_EXPOSURE_MAX=2.5   the highest acceptable "Overall exposure level"
#
# Why a copy: `systemd-analyze verify` fails with "Command /opt/edge-ocr/current/bin/edge-ocr is not executable"
# wherever edge-ocr is not installed at its device path (a build machine, CI). The unit is therefore
# copied to a temporary folder with ONE change: the ExecStart= binary path becomes an executable that
# exists here (`true`); its arguments and every other line stay as they are. Drop-ins given as arguments
# are copied into edge-ocr.service.d/ beside it, where both commands pick them up.
#
# Exit status: 0 all good; 1 verify printed something or failed, or the exposure is too high;
# 77 systemd-analyze is not installed, or too old for --offline (the usual "skipped" code).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
unit="$here/edge-ocr.service"
max="${EDGE_OCR_EXPOSURE_MAX:-2.5}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify.sh: systemd-analyze not found (install systemd)" >&2
    exit 77
fi
if ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    echo "verify.sh: this systemd-analyze has no 'security --offline' (needs systemd 250 or later)" >&2
    exit 77
fi
stand_in=$(command -v true)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
sed "s#^ExecStart=/opt/edge-ocr/current/bin/edge-ocr #ExecStart=$stand_in #" "$unit" >"$work/edge-ocr.service"
if ! grep -q "^ExecStart=$stand_in run --config /etc/edge-ocr/config.toml\$" "$work/edge-ocr.service"; then
    echo "verify.sh: ExecStart= is not the expected /opt/edge-ocr/current/bin/edge-ocr run --config ..." >&2
    exit 1
fi
if [ "$#" -gt 0 ]; then
    mkdir "$work/edge-ocr.service.d"
    for dropin in "$@"; do
        cp "$dropin" "$work/edge-ocr.service.d/$(basename "$dropin")"
    done
fi

status=0
echo "== systemd-analyze verify edge-ocr.service${1:+ + $*} ($(systemd-analyze --version | head -n 1))"
# Run from the copy's folder so messages name the file, not the temporary path.
if out=$(cd "$work" && systemd-analyze verify ./edge-ocr.service 2>&1); then rc=0; else rc=$?; fi
if [ -n "$out" ]; then
    printf '%s\n' "$out"
fi
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "verify: FAILED (exit $rc, or warnings above)"
    status=1
else
    echo "verify: OK (no output)"
fi

echo "== systemd-analyze security --offline=true edge-ocr.service"
if report=$(cd "$work" && SYSTEMD_COLORS=0 systemd-analyze security --offline=true --no-pager ./edge-ocr.service 2>&1); then
    :
else
    echo "security: systemd-analyze failed:"
    printf '%s\n' "$report"
    exit 1
fi
printf '%s\n' "$report"
level=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for edge-ocr.service: \([0-9][0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
    echo "security: no 'Overall exposure level' line"
    exit 1
fi
if awk -v a="$level" -v b="$max" 'BEGIN { exit !(a + 0 <= b + 0) }'; then
    echo "security: exposure $level <= $max: OK"
else
    echo "security: exposure $level > $max: FAILED"
    status=1
fi
exit "$status"
