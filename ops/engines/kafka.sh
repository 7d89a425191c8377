# shellcheck shell=bash
# ops/engines/kafka.sh — Apache Kafka 4.x in KRaft mode (no ZooKeeper) on 127.0.0.1, from the
# Maven Central jars. Sourced by ops/stack (see there for the helpers and variables); also
# runnable alone: `bash ops/engines/kafka.sh up [--brokers 1|3]|down [--purge]|status`.
#
#   STACK_BROKERS=1 (default)  one node, broker and controller in one process: fast, for tests
#   STACK_BROKERS=3            three such nodes forming one controller quorum: for durability
#                              tests; default replication factor 3, min.insync.replicas 2
#   brokers      127.0.0.1:19092, :19093, :19094  (PLAINTEXT; node ids 1, 2, 3)
#   controllers  127.0.0.1:19192, :19193, :19194  (the KRaft quorum, static voters)
#   bootstrap    127.0.0.1:19092 (SLUICE_KAFKA_BROKERS for the connector: the list above)
#   SLUICE_KAFKA_PORT0, SLUICE_KAFKA_CONTROLLER_PORT0: other first ports (node id N listens on
#   PORT0 + N − 1), with SLUICE_STACK_STATE a state folder of its own: a second cluster beside
#   the shared one (test/stack-crash.distributed.test.ts runs its own 3 brokers that way).
#
# Jars: $STACK_CACHE/kafka-<version>/lib (kafka_2.13 = the broker, kafka-tools = the admin
#   commands used for readiness, log4j-slf4j-impl = its logging), via stack_maven_libs.
# Data, logs, pid files: $STACK_STATE/kafka/brokers-<N>/node-<id>/{data,server.properties,kafka.log,kafka.pid};
#   a 1-broker and a 3-broker cluster keep separate data (one runs at a time: same ports).
# Memory: heap 1 GiB for one broker, 512 MiB each for three (a 2-core, 24 GB machine that also
#   runs Cassandra and OpenSearch); the page cache does the rest.
# Durability: Kafka acknowledges acks=all once every in-sync replica has the record in its
#   page cache (it does not fsync per record: replication is its durability), so one broker
#   is for speed, not for crash tests; those use --brokers 3 with min.insync.replicas=2.

KAFKA_VERSION="${SLUICE_KAFKA_VERSION:-4.1.1}"
KAFKA_LOG4J_VERSION=2.24.3
KAFKA_HOST=127.0.0.1
KAFKA_BROKER_PORT0="${SLUICE_KAFKA_PORT0:-19092}"
KAFKA_CONTROLLER_PORT0="${SLUICE_KAFKA_CONTROLLER_PORT0:-19192}"

# shellcheck source=ops/engines/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_HOME="$STACK_CACHE/kafka-$KAFKA_VERSION"

kafka__brokers() { echo "${STACK_BROKERS:-1}"; }
kafka__state() { echo "$STACK_STATE/kafka/brokers-$1"; }
kafka__node_dir() { echo "$(kafka__state "$1")/node-$2"; }
kafka__bootstrap() {
  local n="$1" id list=""
  for ((id = 1; id <= n; id++)); do list+="${list:+,}$KAFKA_HOST:$((KAFKA_BROKER_PORT0 + id - 1))"; done
  echo "$list"
}
kafka__java() { timeout 60 java -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -cp "$KAFKA_HOME/lib/*" \
  -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2-tools.xml" "$@"; }

kafka_install() {
  command -v java >/dev/null || stack_die "kafka: java not found (Kafka 4 brokers need Java 17+: apt-get install openjdk-17-jre-headless)"
  stack_maven_libs "$KAFKA_HOME" "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" "org.apache.kafka:kafka-tools:$KAFKA_VERSION" \
    "org.apache.logging.log4j:log4j-slf4j-impl:$KAFKA_LOG4J_VERSION"
  # log4j2: brokers log INFO of their own life (start, leadership, shutdown) and WARN for the
  # rest to stdout (kafka.log); the command-line tools only errors to stderr.
  [[ -f "$KAFKA_HOME/log4j2.xml" ]] || cat >"$KAFKA_HOME/log4j2.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Logger name="kafka.server.BrokerServer" level="INFO"/>
    <Logger name="kafka.server.ControllerServer" level="INFO"/>
  </Loggers>
</Configuration>
XML
  [[ -f "$KAFKA_HOME/log4j2-tools.xml" ]] || cat >"$KAFKA_HOME/log4j2-tools.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders><Console name="err" target="SYSTEM_ERR"><PatternLayout pattern="%p %m%n"/></Console></Appenders>
  <Loggers><Root level="ERROR"><AppenderRef ref="err"/></Root></Loggers>
</Configuration>
XML
}

# kafka__config N ID: server.properties of node ID in an N-node cluster (combined broker + controller).
kafka__config() {
  local n="$1" id="$2" dir voters="" v rf isr
  dir="$(kafka__node_dir "$n" "$id")"
  for ((v = 1; v <= n; v++)); do voters+="${voters:+,}$v@$KAFKA_HOST:$((KAFKA_CONTROLLER_PORT0 + v - 1))"; done
  if ((n >= 3)); then rf=3 isr=2; else rf=1 isr=1; fi
  cat <<PROPS
# Written by ops/engines/kafka.sh: node $id of $n, broker and KRaft controller in one process.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$KAFKA_HOST:$((KAFKA_BROKER_PORT0 + id - 1)),CONTROLLER://$KAFKA_HOST:$((KAFKA_CONTROLLER_PORT0 + id - 1))
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$((KAFKA_BROKER_PORT0 + id - 1))
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Topics come from the topology (ensureTopics), never from a typo in a producer.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
# A consumer group or a transactional producer that starts gets to work at once.
group.initial.rebalance.delay.ms=0
# A member killed inside a transaction: the broker aborts it soon after its timeout (default
# check every 10 s), so the partitions' new owner does not wait long for those offsets.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
# Small machine: few threads; records kept by each topic's retention.ms (default 7 days).
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.check.interval.ms=60000
PROPS
}

kafka__pid() { echo "$(kafka__node_dir "$1" "$2")/kafka.pid"; }

# kafka__answers N: every one of the N brokers answers ApiVersions, and the metadata that the
# first one returns lists all N (so each has registered with the controller quorum).
kafka__answers() {
  local n="$1" out id
  out="$(kafka__java org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$(kafka__bootstrap "$n")" 2>/dev/null)" || return 1
  for ((id = 1; id <= n; id++)); do
    grep -q "^$KAFKA_HOST:$((KAFKA_BROKER_PORT0 + id - 1)) (id: $id rack: [^)]*isFenced: false) -> ($" <<<"$out" || return 1
  done
}

kafka__wait_alive() {
  local n="$1" id
  for ((id = 1; id <= n; id++)); do
    if ! stack_pid_alive "$(kafka__pid "$n" "$id")"; then
      local log
      log="$(kafka__node_dir "$n" "$id")/kafka.log"
      stack_log "kafka: node $id exited; see $log"
      tail -5 "$log" >&2 2>/dev/null
      return 2
    fi
  done
  kafka__answers "$n"
}

# Which cluster size runs now (its pid files are alive): prints 1 or 3, or nothing.
kafka__running() {
  local n id
  for n in 1 3; do
    for ((id = 1; id <= n; id++)); do
      if stack_pid_alive "$(kafka__pid "$n" "$id")"; then echo "$n"; return 0; fi
    done
  done
}

kafka_up() {
  local n running id dir cluster_id port
  n="$(kafka__brokers)"
  [[ "$n" == 1 || "$n" == 3 ]] || stack_die "kafka: --brokers must be 1 or 3, not $n"
  running="$(kafka__running)"
  if [[ -n "$running" && "$running" != "$n" ]]; then
    stack_die "kafka: a $running-broker cluster is running; stop it first (ops/stack down kafka)"
  fi
  mkdir -p "$(kafka__state "$n")"
  if [[ ! -s "$(kafka__state "$n")/cluster.id" ]]; then
    kafka__java kafka.tools.StorageTool random-uuid >"$(kafka__state "$n")/cluster.id" || stack_die "kafka: StorageTool random-uuid failed"
  fi
  cluster_id="$(cat "$(kafka__state "$n")/cluster.id")"
  for ((id = 1; id <= n; id++)); do
    dir="$(kafka__node_dir "$n" "$id")"
    mkdir -p "$dir"
    kafka__config "$n" "$id" >"$dir/server.properties"
    if stack_pid_alive "$dir/kafka.pid"; then
      stack_log "kafka: node $id already running (pid $(cat "$dir/kafka.pid"))"
      continue
    fi
    for port in $((KAFKA_BROKER_PORT0 + id - 1)) $((KAFKA_CONTROLLER_PORT0 + id - 1)); do
      stack_port_open "$port" "$KAFKA_HOST" && stack_die "kafka: port $port is taken by another process"
    done
    if [[ ! -f "$dir/data/meta.properties" ]]; then
      kafka__java kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$dir/server.properties" --ignore-formatted \
        >>"$dir/kafka.log" 2>&1 || { tail -5 "$dir/kafka.log" >&2; stack_die "kafka: StorageTool format of node $id failed"; }
    fi
    local heap=1g
    ((n > 1)) && heap=512m
    stack_start_daemon "$dir/kafka.pid" "$dir/kafka.log" \
      java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2.xml" \
      -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$dir/server.properties"
    stack_log "kafka: node $id started (pid $(cat "$dir/kafka.pid")), log $dir/kafka.log"
  done
  stack_wait 180 "kafka: every broker answering at $(kafka__bootstrap "$n")" kafka__wait_alive "$n" || return 1
  stack_log "kafka: $n broker(s) answer at $(kafka__bootstrap "$n") (KRaft, data $(kafka__state "$n"))"
}

kafka_down() {
  local n id pids=()
  for n in 1 3; do
    for ((id = 1; id <= n; id++)); do pids+=("$(kafka__pid "$n" "$id")"); done
  done
  # SIGTERM to every node at once, then wait: one by one, the last node would wait for a
  # controller quorum that the others took away (controlled shutdown), until the SIGKILL.
  local f p live=()
  for f in "${pids[@]}"; do
    if stack_pid_alive "$f"; then
      p="$(cat "$f")"
      kill -TERM "$p" 2>/dev/null || true
      live+=("$p")
    fi
  done
  local deadline=$((SECONDS + 60))
  for p in "${live[@]}"; do
    while kill -0 "$p" 2>/dev/null; do
      if ((SECONDS >= deadline)); then kill -KILL "$p" 2>/dev/null || true; break; fi
      sleep 0.2
    done
  done
  rm -f "${pids[@]}"
  stack_log "kafka: stopped"
  if [[ "$STACK_PURGE" == 1 ]]; then
    rm -rf "$STACK_STATE/kafka"
    stack_log "kafka: data deleted ($STACK_STATE/kafka)"
  fi
}

kafka_status() {
  local n
  n="$(kafka__running)"
  if [[ -z "$n" ]]; then
    echo "kafka: down ($KAFKA_HOST:$KAFKA_BROKER_PORT0)"
    return 1
  fi
  if kafka__wait_alive "$n" 2>/dev/null; then
    echo "kafka: up ($n broker(s) at $(kafka__bootstrap "$n") answer ApiVersions and list each other)"
  else
    echo "kafka: not healthy ($n-broker cluster: not every broker is alive and answering at $(kafka__bootstrap "$n"))"
    return 1
  fi
}

# Run alone: bash ops/engines/kafka.sh up [--brokers 1|3]|down [--purge]|status
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up)
      [[ "${2:-}" == --brokers ]] && STACK_BROKERS="${3:-}"
      kafka_install && kafka_up ;;
    down) [[ "${2:-}" == --purge ]] && STACK_PURGE=1; kafka_down ;;
    status) kafka_status ;;
    *) echo "usage: bash ops/engines/kafka.sh up [--brokers 1|3]|down [--purge]|status" >&2; exit 2 ;;
  esac
fi
