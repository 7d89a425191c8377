# shellcheck shell=bash
# ops/engines/s3.sh — an S3 server for the blob store: versitygw (Apache-2.0) with its posix
# backend, on 127.0.0.1. Sourced by ops/stack (see there for the helpers and variables); also
# runnable alone for testing: `bash ops/engines/s3.sh up|down|status [--purge]`.
#
#   endpoint   http://127.0.0.1:19000 (path-style), region us-east-1
#   root user  access key `sluice`, secret `sluice-secret-key` (loopback only: test credentials)
#
# Binary: $STACK_CACHE/versitygw-<version>/bin/versitygw (`go install` from the Go module proxy,
#   GOBIN there, so later runs only check that it is present).
# Data, log, pid: $STACK_STATE/s3/{data,versitygw.log,versitygw.pid}. Objects are files under
#   data/<bucket>/<key>, metadata in extended attributes (the file system needs user xattrs).
# Durability: versitygw's posix backend does not fsync, so an acknowledged put is in the page
#   cache, not yet on disk; that is the S3 server's promise to keep, and a production S3 keeps it.

S3_VERSITYGW_VERSION="${SLUICE_VERSITYGW_VERSION:-v1.8.0}"
S3_HOST=127.0.0.1
S3_PORT="${SLUICE_S3_PORT:-19000}"
S3_ACCESS_KEY=sluice
S3_SECRET_KEY=sluice-secret-key
S3_REGION=us-east-1

# shellcheck source=ops/engines/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3_HOME="$STACK_CACHE/versitygw-$S3_VERSITYGW_VERSION"
S3_BIN="$S3_HOME/bin/versitygw"
S3_STATE="$STACK_STATE/s3"
S3_PID="$S3_STATE/versitygw.pid"
S3_LOG="$S3_STATE/versitygw.log"

s3_install() {
  [[ -x "$S3_BIN" ]] && return 0
  command -v go >/dev/null || stack_die "s3: go not found (versitygw is built with go install; Go 1.25+ is needed)"
  stack_log "s3: go install github.com/versity/versitygw/cmd/versitygw@$S3_VERSITYGW_VERSION into $S3_HOME/bin"
  mkdir -p "$S3_HOME/bin"
  if ! GOBIN="$S3_HOME/bin" GOFLAGS=-trimpath go install "github.com/versity/versitygw/cmd/versitygw@$S3_VERSITYGW_VERSION" \
    >"$S3_HOME/install.log" 2>&1; then
    tail -20 "$S3_HOME/install.log" >&2
    stack_die "s3: go install failed (log: $S3_HOME/install.log)"
  fi
}

# s3__answers: a SigV4-signed ListBuckets (GET /) as the root user succeeds (a wrong secret gets
# 403, so this proves the credentials too). versitygw requires x-amz-content-sha256: the empty body's.
S3_EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3__answers() {
  curl -fsS -o /dev/null --max-time 5 -H "x-amz-content-sha256: $S3_EMPTY_SHA256" --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "http://$S3_HOST:$S3_PORT/" 2>/dev/null
}

s3__wait_alive() {
  stack_pid_alive "$S3_PID" || { stack_log "s3: versitygw exited; see $S3_LOG"; tail -5 "$S3_LOG" >&2 2>/dev/null; return 2; }
  s3__answers
}

s3_up() {
  command -v curl >/dev/null || stack_die "s3: curl not found (readiness is a signed S3 request: apt-get install curl)"
  mkdir -p "$S3_STATE/data"
  if stack_pid_alive "$S3_PID"; then
    stack_log "s3: versitygw already running (pid $(cat "$S3_PID"))"
  else
    if stack_port_open "$S3_PORT" "$S3_HOST"; then
      stack_die "s3: port $S3_PORT is taken by another process"
    fi
    # --quiet: no line per request on stdout (the log would grow without bound under load).
    stack_start_daemon "$S3_PID" "$S3_LOG" \
      env ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" "$S3_BIN" --port "$S3_HOST:$S3_PORT" --region "$S3_REGION" --quiet \
      posix "$S3_STATE/data"
    stack_log "s3: versitygw started (pid $(cat "$S3_PID")), log $S3_LOG"
  fi
  stack_wait 60 "s3 ListBuckets at http://$S3_HOST:$S3_PORT" s3__wait_alive || return 1
  stack_log "s3: versitygw answers at http://$S3_HOST:$S3_PORT (region $S3_REGION, data $S3_STATE/data)"
}

s3_down() {
  stack_stop_pids 20 "$S3_PID"
  stack_log "s3: stopped"
  if [[ "$STACK_PURGE" == 1 ]]; then
    rm -rf "$S3_STATE"
    stack_log "s3: data deleted ($S3_STATE)"
  fi
}

s3_status() {
  if stack_pid_alive "$S3_PID" && s3__answers; then
    echo "s3: up (pid $(cat "$S3_PID"), http://$S3_HOST:$S3_PORT answers ListBuckets)"
  elif stack_pid_alive "$S3_PID"; then
    echo "s3: not healthy (pid $(cat "$S3_PID") alive, http://$S3_HOST:$S3_PORT does not answer)"
    return 1
  else
    echo "s3: down (http://$S3_HOST:$S3_PORT)"
    return 1
  fi
}

# Run alone: bash ops/engines/s3.sh up|down|status [--purge]
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up) s3_install && s3_up ;;
    down) [[ "${2:-}" == --purge ]] && STACK_PURGE=1; s3_down ;;
    status) s3_status ;;
    *) echo "usage: bash ops/engines/s3.sh up|down [--purge]|status" >&2; exit 2 ;;
  esac
fi
