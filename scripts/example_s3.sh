#!/usr/bin/env bash
# Runs examples/github_events against a real S3-compatible server (moto_server on
# 127.0.0.1) and against local disk, and checks that the answers agree.
#
# Usage: scripts/example_s3.sh MOTO_SERVER_BINARY   (CARGO_TARGET_DIR as for the build)
set -euo pipefail
cd "$(dirname "$0")/.."
moto="$1"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Wait until the server answers, then create the bucket.
python3 - "$port" <<'PY'
import sys, time, urllib.request
port = sys.argv[1]
deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/github", method="PUT"))
        break
    except Exception as e:
        if time.time() > deadline:
            sys.exit(f"moto_server on port {port} did not answer: {e}")
        time.sleep(0.2)
PY

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
example="cargo run --quiet --all-features --locked --example github_events --"
$example "$work/local" | tee "$work/local.out"
$example "s3://github/2015" | tee "$work/s3.out"
# The answers, without timings and the lines about where the data came from.
answers() { grep -v -e '^  (' -e '^reading ' -e '^generated ' -e '^uploaded ' "$1"; }
if ! diff <(answers "$work/local.out") <(answers "$work/s3.out"); then
  echo "the example's answers from S3 differ from those from local disk" >&2
  exit 1
fi
grep -q '^uploaded them to s3://github/2015' "$work/s3.out"
grep -q '^reading s3://github/2015/\*.json.gz' "$work/s3.out"
echo "github_events: the same answers from s3:// and from local disk"
