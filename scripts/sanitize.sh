#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of agentcluster.
#
#   npm run sanitize                      # or: bash scripts/sanitize.sh
#   SANITIZE_DIR=/tmp/ac-asan STRESS_DURATION=90s npm run sanitize
#   SANITIZE_TESTS="test/agent-lifecycle.test.ts" npm run sanitize
#
# 1. Copies the repository (sources only) to $SANITIZE_DIR (default: ../asan
#    next to this checkout), so the normal build/ of the checkout is never
#    touched, and links its node_modules (JavaScript only; set
#    SANITIZE_NPM_INSTALL=1 to run `npm install --ignore-scripts` instead).
# 2. Builds the addon there with AGENTCLUSTER_SANITIZE=1 (binding.gyp adds
#    -fsanitize=address,undefined) at -O1 -g, and the TypeScript (dist/).
# 3. Runs the unit tests and a short seeded stress pass with node preloading
#    gcc's libasan and libubsan (node itself is not instrumented; the
#    preloaded runtime replaces malloc/free for the whole process and checks
#    every access our instrumented code makes).
# 4. Collects every sanitizer report (one log file per process, child
#    processes included), sorts them into "ours" (a frame in native/) and
#    "not ours", prints a summary and exits non-zero if there is any report
#    that sanitizer/suppressions does not cover, or if a test failed.
#
# Suppressions (scripts/sanitizer/*.supp, each entry documented there) cover
# only Node/V8 internals; LeakSanitizer is off (detect_leaks=0): Node and V8
# deliberately leave process-lifetime allocations at exit.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${SANITIZE_DIR:-$(dirname "$ROOT")/asan}"
DURATION="${STRESS_DURATION:-60s}"
SEED="${STRESS_SEED:-1}"
# agent-leak.test.ts is left out by default: its RSS bounds measure ASan's quarantine
# (up to 256 MB of freed memory held back on purpose), not us.
DEFAULT_TESTS="$(cd "$ROOT" && ls test/agent-*.test.ts test/clone-*.test.ts test/atomics-*.test.ts test/pool-*.test.ts 2>/dev/null | grep -v 'agent-leak' | tr '\n' ' ')"
TESTS="${SANITIZE_TESTS:-$DEFAULT_TESTS}"
JOBS="${JOBS:-2}"

if [ "$DIR" = "$ROOT" ]; then echo "sanitize: SANITIZE_DIR must not be the checkout itself" >&2; exit 2; fi
command -v gcc >/dev/null || { echo "sanitize: gcc is needed (for libasan/libubsan)" >&2; exit 2; }
LIBASAN="$(gcc -print-file-name=libasan.so)"
LIBUBSAN="$(gcc -print-file-name=libubsan.so)"
for lib in "$LIBASAN" "$LIBUBSAN"; do
  [ -e "$lib" ] || { echo "sanitize: $lib not found (apt-get install libasan8 libubsan1, or gcc)" >&2; exit 2; }
done

echo "== copying $ROOT -> $DIR"
mkdir -p "$DIR"
if command -v rsync >/dev/null; then
  rsync -a --delete --exclude node_modules --exclude build --exclude dist --exclude .git --exclude scratch \
    --exclude 'isolate-*.log' --exclude sanitizer-logs "$ROOT/" "$DIR/"
else
  (cd "$ROOT" && tar --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.git --exclude=./scratch \
    --exclude='isolate-*.log' -cf - .) | (cd "$DIR" && tar -xf -)
fi
cd "$DIR" || exit 2
if [ "${SANITIZE_NPM_INSTALL:-0}" = 1 ]; then
  rm -rf node_modules && npm install --ignore-scripts --no-audit --no-fund || exit 2
elif [ ! -e node_modules ]; then
  ln -s "$ROOT/node_modules" node_modules
fi

echo "== building the addon with AddressSanitizer + UndefinedBehaviorSanitizer"
# CXXFLAGS come after gyp's own flags, so -O1 wins over -O3 (better stacks, still fast).
if ! AGENTCLUSTER_SANITIZE=1 CXXFLAGS="-O1 -g -fno-omit-frame-pointer" npm run --silent build:native -- -j "$JOBS" >sanitize-build.log 2>&1; then
  tail -40 sanitize-build.log; echo "sanitize: the build failed (log: $DIR/sanitize-build.log)" >&2; exit 2
fi
# Capture ldd's output first: with pipefail, `ldd | grep -q` fails when grep exits early and ldd gets SIGPIPE.
linked="$(ldd build/Release/agentcluster.node 2>&1)"
if ! grep -q libasan <<<"$linked"; then
  echo "sanitize: build/Release/agentcluster.node is not linked against libasan: the AGENTCLUSTER_SANITIZE condition of binding.gyp did not apply" >&2; exit 2
fi
npx tsc -p tsconfig.build.json || { echo "sanitize: tsc failed" >&2; exit 2; }

LOGS="$DIR/sanitizer-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"
SUPP="$DIR/scripts/sanitizer"
# detect_leaks=0: see the header. handle_segv / allow_user_segv_handler: Node installs
# its own SIGSEGV handler (V8's WebAssembly trap handler); ASan must let it.
# Where reports go: with both runtimes in one process, ASan writes to log_path (one file per
# process, child processes included) but UBSan always prints to stderr; so stderr of every
# process we run is scanned too (the test and stress logs; the stress suite turns any
# "runtime error:" on a child's stderr into a failure of its own).
export ASAN_OPTIONS="detect_leaks=0:allow_user_segv_handler=1:handle_segv=1:print_summary=1:symbolize=1:log_path=$LOGS/san:suppressions=$SUPP/asan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:report_error_type=1:log_path=$LOGS/san:suppressions=$SUPP/ubsan.supp"
export LD_PRELOAD="$LIBASAN $LIBUBSAN"
export AGENTCLUSTER_SANITIZE=1   # read by the stress suite: memory bounds are reported, not enforced (ASan's quarantine owns RSS)

# Self-check: a deliberate heap overflow and a deliberate signed overflow, built and run
# with the same runtimes and options, must each leave a report in the log folder, or
# "0 reports" below would mean nothing.
cat >"$LOGS/canary.cc" <<'CANARY'
#include <cstdlib>
#include <cstdio>
int main(int argc, char**) {
  int big = 2147483647;
  big += argc;  // signed overflow: UBSan
  std::printf("%d\n", big);
  volatile char* p = static_cast<char*>(std::malloc(8));
  p[8 + argc] = 1;  // heap-buffer-overflow: ASan
  std::free(const_cast<char*>(p));
  return 0;
}
CANARY
if g++ -O0 -g -fsanitize=address,undefined "$LOGS/canary.cc" -o "$LOGS/canary" 2>/dev/null; then
  ( ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$LOGS/canary" UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$LOGS/canary" LD_PRELOAD= "$LOGS/canary" >/dev/null 2>"$LOGS/canary.stderr" )
  if grep -qs 'heap-buffer-overflow' "$LOGS"/canary.[0-9]* && grep -qs 'signed integer overflow' "$LOGS/canary.stderr"; then
    echo "== self-check: ASan and UBSan reports reach $LOGS"
  else
    echo "sanitize: self-check failed: a deliberate ASan/UBSan error left no report in $LOGS" >&2; exit 2
  fi
  rm -f "$LOGS"/canary*
else
  echo "sanitize: could not build the self-check canary (g++ with -fsanitize); going on without it" >&2
fi

status=0
echo "== unit tests under the sanitizers: $TESTS"
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 --test-timeout=900000 $TESTS >sanitize-tests.log 2>&1 || status=1
grep -E '^# (tests|pass|fail|cancelled|skipped)' sanitize-tests.log || tail -30 sanitize-tests.log
[ $status = 0 ] || echo "sanitize: unit tests failed (log: $DIR/sanitize-tests.log)"

echo "== stress --quick --duration $DURATION --seed $SEED under the sanitizers"
stress_status=0
node --import tsx stress/run.ts --quick --duration "$DURATION" --seed "$SEED" >sanitize-stress.log 2>&1 || stress_status=$?
sed -n '/^| scenario/,/^$/p' sanitize-stress.log
[ $stress_status = 0 ] || echo "sanitize: the stress pass reported failures (exit $stress_status; log: $DIR/sanitize-stress.log)"
unset LD_PRELOAD

echo "== sanitizer reports"
reports=0; ours=0
summary="$DIR/sanitizer-report.txt"
: >"$summary"
for f in "$LOGS"/* sanitize-tests.log sanitize-stress.log; do
  [ -f "$f" ] || continue
  asan=$(grep -cE '==[0-9]+==ERROR: ' "$f")
  ubsan=$(grep -cE 'runtime error: ' "$f")
  [ $((asan + ubsan)) -gt 0 ] || continue
  reports=$((reports + asan + ubsan))
  # UBSan names the source on the report line; an ASan report is ours if a frame is in native/.
  ub_ours=$(grep -E 'runtime error: ' "$f" | grep -cE '(^|/)native/[a-z_0-9]+\.(cc|h):')
  as_ours=0
  if [ "$asan" -gt 0 ] && grep -qE '/native/[a-z_0-9]+\.(cc|h):[0-9]+' "$f"; then as_ours=$asan; fi
  ours=$((ours + ub_ours + as_ours))
  {
    echo "== $f: $asan ASan, $ubsan UBSan report(s), $((ub_ours + as_ours)) in native/"
    grep -E '==[0-9]+==ERROR: |runtime error: ' "$f" | sort | uniq -c | sort -rn | head -10
    grep -E '^ +#[0-9]+ ' "$f" | head -16
    echo
  } >>"$summary"
done
echo "reports: $reports (in our code, native/*: $ours); details: $summary, logs: $LOGS"
[ -s "$summary" ] && head -60 "$summary"

if [ "$reports" -gt 0 ]; then status=1; fi
if [ "$stress_status" -ne 0 ]; then status=1; fi
exit $status
