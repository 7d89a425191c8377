# shellcheck shell=bash
# ops/engines/cassandra.sh — Apache Cassandra 5.0 for the mail store, one node on 127.0.0.1, on
# Java 17. Sourced by ops/stack (see there for the helpers and variables); also runnable alone:
# `bash ops/engines/cassandra.sh up|down|status [--purge]`.
#
#   CQL (native protocol)  127.0.0.1:19042   datacenter `datacenter1` (SimpleSnitch), no auth
#   storage (gossip)       127.0.0.1:17000
#   JMX                    127.0.0.1:17199, local only (cassandra.jmx.local.port; nodetool -p 17199)
#   heap                   -Xms1g -Xmx2g (G1): the 2-core, 24 GB machine also runs Kafka and OpenSearch;
#                          memtables take 1/4 of the heap, the chunk cache up to 512 MB off heap
#
# Jars: $STACK_CACHE/cassandra-<version>/lib (org.apache.cassandra:cassandra-all and its runtime
#   dependencies from Maven Central, through mvn), run as `java -cp 'lib/*' CassandraDaemon`.
# Config: generated into $STACK_STATE/cassandra/conf on every `up` — cassandra.yaml, logback.xml,
#   and the active lines of Cassandra 5.0's conf/jvm-server.options and conf/jvm17-server.options.
# Data, logs, pid: $STACK_STATE/cassandra/{data,commitlog,saved_caches,hints,cdc_raw,logs,cassandra.pid}.
# Readiness: a real CQL query answered (ops/engines/cassandra-ready.mjs: SELECT release_version
#   FROM system.local with cassandra-driver from the project's node_modules), not a port probe.
# Durability: commitlog_sync periodic (10 s), Cassandra's default: a write is acknowledged once
#   in the commit log's memory map, so a killed process loses nothing, a power cut up to 10 s.
#   The log stays the source of truth (DESIGN.md §1.2): the store is replayable from it.

CASSANDRA_VERSION="${SLUICE_CASSANDRA_VERSION:-5.0.9}"
CASSANDRA_HOST=127.0.0.1
CASSANDRA_CQL_PORT="${SLUICE_CASSANDRA_PORT:-19042}"
CASSANDRA_STORAGE_PORT=17000
CASSANDRA_JMX_PORT=17199
CASSANDRA_HEAP_MIN="${SLUICE_CASSANDRA_HEAP_MIN:-1g}"
CASSANDRA_HEAP_MAX="${SLUICE_CASSANDRA_HEAP_MAX:-2g}"

# shellcheck source=ops/engines/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASSANDRA_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CASSANDRA_HOME="$STACK_CACHE/cassandra-$CASSANDRA_VERSION"
CASSANDRA_STATE="$STACK_STATE/cassandra"
CASSANDRA_CONF="$CASSANDRA_STATE/conf"
CASSANDRA_PID="$CASSANDRA_STATE/cassandra.pid"
CASSANDRA_LOG="$CASSANDRA_STATE/logs/stdout.log"

# Java 17: Cassandra 5.0 runs on 11 or 17; the machine's default `java` may be another (Temurin 25
# sits beside it in /usr/lib/jvm), so pick a 17 explicitly.
cassandra__java() {
  local j
  for j in "${SLUICE_CASSANDRA_JAVA:-}" "${JAVA17_HOME:+$JAVA17_HOME/bin/java}" /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
    /usr/lib/jvm/java-17-openjdk-arm64/bin/java /usr/lib/jvm/temurin-17-jdk-amd64/bin/java "$(command -v java || true)"; do
    [[ -n "$j" && -x "$j" ]] || continue
    if "$j" -version 2>&1 | head -1 | grep -q '"17\.'; then
      echo "$j"
      return 0
    fi
  done
  return 1
}

cassandra_install() {
  cassandra__java >/dev/null || stack_die "cassandra: no Java 17 found (apt-get install openjdk-17-jre-headless, or set SLUICE_CASSANDRA_JAVA)"
  stack_maven_libs "$CASSANDRA_HOME" "org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION"
  [[ -n "$(cassandra__jamm)" ]] || stack_die "cassandra: no jamm jar in $CASSANDRA_HOME/lib (a cassandra-all dependency)"
}

cassandra__jamm() { compgen -G "$CASSANDRA_HOME/lib/jamm-*.jar" | head -1; }

# The active lines (no comments) of Cassandra 5.0's conf/jvm-server.options and
# conf/jvm17-server.options, as bin/cassandra would read them; the heap is set in cassandra_up.
cassandra__write_jvm_options() {
  cat >"$CASSANDRA_CONF/jvm-server.options" <<'EOF'
# Cassandra 5.0 conf/jvm-server.options (active lines)
-ea
-da:net.openhft...
-XX:+UseThreadPriorities
-XX:+HeapDumpOnOutOfMemoryError
-Xss256k
-XX:+AlwaysPreTouch
-XX:+UseTLAB
-XX:+ResizeTLAB
-XX:+UseNUMA
-XX:+PerfDisableSharedMem
-Djava.net.preferIPv4Stack=true
EOF
  cat >"$CASSANDRA_CONF/jvm17-server.options" <<'EOF'
# Cassandra 5.0 conf/jvm17-server.options (active lines)
-XX:+UseG1GC
-XX:+ParallelRefProcEnabled
-XX:MaxTenuringThreshold=1
-XX:G1HeapRegionSize=16m
-XX:G1RSetUpdatingPauseTimePercent=5
-XX:MaxGCPauseMillis=300
-XX:InitiatingHeapOccupancyPercent=70
-Djdk.attach.allowAttachSelf=true
--add-exports java.base/jdk.internal.misc=ALL-UNNAMED
--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
--add-exports java.sql/java.sql=ALL-UNNAMED
--add-exports java.base/java.lang.ref=ALL-UNNAMED
--add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
--add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
--add-opens java.base/java.lang.module=ALL-UNNAMED
--add-opens java.base/jdk.internal.loader=ALL-UNNAMED
--add-opens java.base/jdk.internal.ref=ALL-UNNAMED
--add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
--add-opens java.base/jdk.internal.math=ALL-UNNAMED
--add-opens java.base/jdk.internal.module=ALL-UNNAMED
--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
--add-opens java.base/sun.nio.ch=ALL-UNNAMED
--add-opens java.base/java.io=ALL-UNNAMED
--add-opens java.base/java.lang.reflect=ALL-UNNAMED
--add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
--add-opens java.base/java.lang=ALL-UNNAMED
--add-opens java.base/java.util=ALL-UNNAMED
-Dio.netty.tryReflectionSetAccessible=true
-Dio.netty.allocator.useCacheForAllThreads=true
-Dio.netty.allocator.maxOrder=11
EOF
}

cassandra__write_yaml() {
  local s="$CASSANDRA_STATE"
  cat >"$CASSANDRA_CONF/cassandra.yaml" <<EOF
# Generated by ops/engines/cassandra.sh on every \`up\`: edit the script, not this file.
cluster_name: sluice
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$CASSANDRA_HOST:$CASSANDRA_STORAGE_PORT"
listen_address: $CASSANDRA_HOST
rpc_address: $CASSANDRA_HOST
storage_port: $CASSANDRA_STORAGE_PORT
start_native_transport: true
native_transport_port: $CASSANDRA_CQL_PORT
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
data_file_directories:
  - $s/data
commitlog_directory: $s/commitlog
saved_caches_directory: $s/saved_caches
hints_directory: $s/hints
cdc_raw_directory: $s/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 32MiB
storage_compatibility_mode: NONE
# A loopback test node: no snapshot on every TRUNCATE/DROP (the contract tests empty tables often).
auto_snapshot: false
# The mail store writes a delivery or a change as one logged batch (all or nothing); a message
# with long address lists makes a batch larger than the 5/50 KiB defaults.
batch_size_warn_threshold: 64KiB
batch_size_fail_threshold: 1024KiB
concurrent_reads: 16
concurrent_writes: 16
concurrent_counter_writes: 16
EOF
  cat >"$CASSANDRA_CONF/logback.xml" <<EOF
<configuration scan="false">
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>$s/logs/system.log</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy">
      <fileNamePattern>$s/logs/system.log.%d{yyyy-MM-dd}.%i.zip</fileNamePattern>
      <maxFileSize>50MB</maxFileSize><maxHistory>7</maxHistory><totalSizeCap>500MB</totalSizeCap>
    </rollingPolicy>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="SYSTEMLOG" /></root>
</configuration>
EOF
}

# One argument per option, as bin/cassandra passes them (`--add-exports M/P=ALL-UNNAMED` -> `--add-exports=M/P=…`).
cassandra__options() {
  grep -h '^-' "$CASSANDRA_CONF/jvm-server.options" "$CASSANDRA_CONF/jvm17-server.options" | sed -E 's/^(--add-[a-z]+) /\1=/'
}

cassandra__answers() {
  command -v node >/dev/null || return 1
  (cd "$CASSANDRA_REPO" && node ops/engines/cassandra-ready.mjs "$CASSANDRA_HOST" "$CASSANDRA_CQL_PORT") >/dev/null 2>&1
}

# Until the CQL query is answered; gives up at once when the JVM has exited.
cassandra__wait_ready() {
  local deadline=$((SECONDS + $1))
  until cassandra__answers; do
    if ! stack_pid_alive "$CASSANDRA_PID"; then
      stack_log "cassandra: the JVM exited; see $CASSANDRA_LOG and $CASSANDRA_STATE/logs/system.log"
      tail -20 "$CASSANDRA_LOG" >&2 2>/dev/null
      return 1
    fi
    if ((SECONDS >= deadline)); then stack_log "cassandra: CQL not answered after $1 s"; return 1; fi
    sleep 1
  done
}

cassandra_up() {
  [[ -d "$CASSANDRA_REPO/node_modules/cassandra-driver" ]] ||
    stack_die "cassandra: readiness needs the project's cassandra-driver: run npm ci in $CASSANDRA_REPO first"
  if stack_pid_alive "$CASSANDRA_PID"; then
    stack_log "cassandra: already running (pid $(cat "$CASSANDRA_PID"))"
  else
    local p
    for p in "$CASSANDRA_CQL_PORT" "$CASSANDRA_STORAGE_PORT" "$CASSANDRA_JMX_PORT"; do
      if stack_port_open "$p" "$CASSANDRA_HOST"; then stack_die "cassandra: port $p is taken by another process"; fi
    done
    local java
    java="$(cassandra__java)" || stack_die "cassandra: no Java 17 found"
    mkdir -p "$CASSANDRA_CONF/triggers" "$CASSANDRA_STATE"/{data,commitlog,saved_caches,hints,cdc_raw,logs}
    cassandra__write_jvm_options
    cassandra__write_yaml
    local -a opts
    mapfile -t opts < <(cassandra__options)
    # As bin/cassandra and conf/cassandra-env.sh would add them.
    opts+=(
      "-Xms$CASSANDRA_HEAP_MIN" "-Xmx$CASSANDRA_HEAP_MAX"
      -XX:+CrashOnOutOfMemoryError "-XX:HeapDumpPath=$CASSANDRA_STATE/logs"
      "-Xlog:gc=info:file=$CASSANDRA_STATE/logs/gc.log:time,uptime:filecount=5,filesize=10m"
      "-javaagent:$(cassandra__jamm)"
      "-Dcassandra.config=file://$CASSANDRA_CONF/cassandra.yaml"
      "-Dcassandra.storagedir=$CASSANDRA_STATE"
      "-Dcassandra.logdir=$CASSANDRA_STATE/logs"
      "-Dcassandra.triggers_dir=$CASSANDRA_CONF/triggers"
      "-Dlogback.configurationFile=$CASSANDRA_CONF/logback.xml"
      "-Dcassandra.jmx.local.port=$CASSANDRA_JMX_PORT"
      -Djava.rmi.server.hostname=127.0.0.1
      -Dcassandra-foreground=yes
      # One node that is its own seed: no peers to hear from, so neither wait for gossip to settle
      # nor spend RING_DELAY (30 s) learning the ring before choosing its tokens on first start.
      -Dcassandra.skip_wait_for_gossip_to_settle=0
      -Dcassandra.ring_delay_ms=1000
    )
    stack_start_daemon "$CASSANDRA_PID" "$CASSANDRA_LOG" \
      "$java" "${opts[@]}" -cp "$CASSANDRA_CONF:$CASSANDRA_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon
    stack_log "cassandra: started (pid $(cat "$CASSANDRA_PID")), log $CASSANDRA_STATE/logs/system.log"
  fi
  cassandra__wait_ready 240 || return 1
  stack_log "cassandra: answers CQL at $CASSANDRA_HOST:$CASSANDRA_CQL_PORT (data $CASSANDRA_STATE/data)"
}

cassandra_down() {
  # SIGTERM: Cassandra's shutdown hook drains and flushes; give it time before SIGKILL.
  stack_stop_pids 60 "$CASSANDRA_PID"
  stack_log "cassandra: stopped"
  if [[ "$STACK_PURGE" == 1 ]]; then
    rm -rf "$CASSANDRA_STATE"
    stack_log "cassandra: data deleted ($CASSANDRA_STATE)"
  fi
}

cassandra_status() {
  if stack_pid_alive "$CASSANDRA_PID" && cassandra__answers; then
    echo "cassandra: up (pid $(cat "$CASSANDRA_PID"), CQL $CASSANDRA_HOST:$CASSANDRA_CQL_PORT answers)"
  elif stack_pid_alive "$CASSANDRA_PID"; then
    echo "cassandra: not healthy (pid $(cat "$CASSANDRA_PID") alive, CQL $CASSANDRA_HOST:$CASSANDRA_CQL_PORT does not answer)"
    return 1
  else
    echo "cassandra: down (CQL $CASSANDRA_HOST:$CASSANDRA_CQL_PORT)"
    return 1
  fi
}

# Run alone: bash ops/engines/cassandra.sh up|down|status [--purge]
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up) cassandra_install && cassandra_up ;;
    down) [[ "${2:-}" == --purge ]] && STACK_PURGE=1; cassandra_down ;;
    status) cassandra_status ;;
    *) echo "usage: bash ops/engines/cassandra.sh up|down [--purge]|status" >&2; exit 2 ;;
  esac
fi
