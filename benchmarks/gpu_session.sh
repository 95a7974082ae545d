#!/usr/bin/env bash
# One GPU session's measurements: `make gpu-check`, then `make gpu-bench`, outputs to $OUT (to
# commit under docs/results/gpu/ with the command that made them).
#
# The device machine has torch but no internet and not all of ganzoo's dependencies, so:
#   1. here, once:      bash benchmarks/gpu_session.sh prepare
#      builds wheels of ganzoo, its psf/pau plugins and the missing dependencies into .whl/
#      (ignored by git, so the device tool carries it only when asked) with `pip wheel --no-deps`;
#   2. on the machine:  bash benchmarks/gpu_session.sh check   (the device tool, carry [".whl"])
#                       bash benchmarks/gpu_session.sh bench
#      each installs the wheels with `pip install --no-deps --target` into a scratch folder,
#      then runs gpu_check.py / gpu_bench.py, writing gpu-check.txt (+ its logs as a .tar.gz) or
#      gpu-bench.txt under $OUT. Two calls, so each stays within one command's 10 minutes.
#   `all` runs check then bench in one call. Without CUDA both scripts say so and exit 0, so
#   `OUT=/tmp/x bash benchmarks/gpu_session.sh check` rehearses the plumbing on any machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHEELS="${WHEELS:-$ROOT/.whl}"
PYTHON="${PYTHON:-python3}"
SITE="${SITE:-/tmp/ganzoo-site}"
# The dependencies the device image lacks (KINDS.md lists what it holds), pinned to the
# versions the development machines test with.
DEPENDENCIES=(pytorch-ignite==0.5.5 torch-fidelity==0.4.0 omegaconf==2.4.0 mlxtend==0.25.0)

prepare() {
  mkdir -p "$WHEELS"
  "$PYTHON" -m pip wheel --quiet --no-deps -w "$WHEELS" "${DEPENDENCIES[@]}"
  "$PYTHON" -m pip wheel --quiet --no-deps -w "$WHEELS" "$ROOT" "$ROOT/plugins/psf" "$ROOT/plugins/pau"
  ls -1 "$WHEELS"
}

install() {
  if [ -d "$WHEELS" ] && ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$SITE" "$WHEELS"/*.whl
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  else
    echo "gpu-session: no wheels in $WHEELS; using the installed packages"
  fi
  # The working tree first (ganzoo, evaluation, the plugins' code); the wheels add what the
  # tree cannot: the dependencies and the plugins' entry points.
  export PYTHONPATH="$ROOT:$ROOT/plugins/psf:$ROOT/plugins/pau${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONUNBUFFERED=1
}

run_check() {
  mkdir -p "$OUT/gpu-check-logs"
  set +e
  (cd "$ROOT" && "$PYTHON" benchmarks/gpu_check.py --log-dir "$OUT/gpu-check-logs" \
    --timeout "${CHECK_TIMEOUT:-150}") 2>&1 | tee "$OUT/gpu-check.txt"
  local status=${PIPESTATUS[0]}
  set -e
  tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$OUT" gpu-check-logs && rm -rf "$OUT/gpu-check-logs"
  return "$status"
}

run_bench() {
  set +e
  (cd "$ROOT" && "$PYTHON" benchmarks/gpu_bench.py ${BENCH_ARGS:-}) 2>&1 | tee "$OUT/gpu-bench.txt"
  local status=${PIPESTATUS[0]}
  set -e
  return "$status"
}

: "${OUT:=$ROOT/gpu-session-out}"
mkdir -p "$OUT"
case "${1:-all}" in
  prepare) prepare ;;
  check) install; run_check ;;
  bench) install; run_bench ;;
  all) install; run_check || echo "gpu-session: gpu-check failed; benchmarking anyway"; run_bench ;;
  *) echo "usage: $0 prepare|check|bench|all" >&2; exit 2 ;;
esac
