# Shortcuts for those who have `just`; each runs the same `cargo xtask`
# command, which needs nothing but rustup and cargo.

# Build the four connectors and pay through all of them against the simulator.
demo *ARGS:
    cargo xtask demo {{ARGS}}

# Every test, unit and integration.
test *ARGS:
    cargo xtask test {{ARGS}}

# The connectors, into target/plugins/.
build-plugins:
    cargo xtask build-plugins

# rustfmt and clippy -D warnings, host and wasm targets (wasm32-wasip2, wasm32-unknown-unknown).
check:
    cargo xtask check

# The benchmarks, written to BENCHMARKS.md.
bench *ARGS:
    cargo xtask bench {{ARGS}}

# The reliability suite against a release build (about ten minutes).
soak *ARGS:
    cargo xtask soak {{ARGS}}
