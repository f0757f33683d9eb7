# Sourced by the bench scripts.

# Stops the demo's PostgreSQL (its data directory is $1) and deletes its files: gigabytes at
# millions of legs, left in /tmp otherwise.
stop_demo() {
    local pid
    pid=$(head -1 "$1/postmaster.pid" 2>/dev/null) || return 0
    kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    rm -rf "$(dirname "$1")"
}
