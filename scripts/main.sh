#!/usr/bin/env bash
# Runs the main job on generated data: every example workload, in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brisk/target}"
cargo run --release --locked --example delayed_tour
cargo run --release --locked --example github_events
cargo run --release --locked --example github_events -- --workers 2
cargo run --release --locked --example nyc_taxi
cargo run --release --locked --example temperature
cargo run --release --locked --features ml --example grid_search
cargo run --release --locked --features ml --example random_forest
