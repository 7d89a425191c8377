# shellcheck shell=bash
# ops/engines/registry.sh — Apicurio Registry 2.4 (Apache-2.0), a schema registry with the
# Confluent API, on 127.0.0.1, for the Avro framing of the Kafka log (connectors/log/schema-framed.ts).
# Sourced by ops/stack (see there for the helpers and variables); also runnable alone:
# `bash ops/engines/registry.sh up|down|status [--purge]`.
#
#   HTTP       http://127.0.0.1:19081, Confluent API at /apis/ccompat/v7 (no auth: loopback only)
#   storage    H2 in a file ($STACK_STATE/registry/db): schemas and their ids survive restarts
#   heap       384 MiB (SLUICE_REGISTRY_HEAP), serial GC (it idles most of the time on a 2-core
#              machine); about 300 MiB resident. The JVM exits on OutOfMemoryError.
#   Java       17 (SLUICE_REGISTRY_JAVA_HOME, else the `java` on PATH if it is 17–21, else
#              /usr/lib/jvm/java-17-openjdk-*); the build needs its javac.
#
# Build, once, into $STACK_CACHE/apicurio-registry-<version> (Maven Central only; about 3 min):
#   Maven Central serves the registry's classes (io.apicurio:apicurio-registry-app) but no
#   runnable build, so ops/engines/apicurio/pom-registry.xml runs the Quarkus build over them
#   (legacy-jar: app/target/*-runner.jar + app/target/lib). Why 2.4.2.Final, not 3.x or 2.6:
#   - 3.3.x: apicurio-registry-schema-util-provider 3.3.x is not on Maven Central;
#   - 3.0.9: its parent pom io.apicurio:apicurio-registry:3.0.9 is not on Maven Central;
#   - 2.6.13.Final: apicurio-registry-schema-util-provider 2.6.13.Final is not on Maven Central;
#   - 2.4.2.Final builds with two substitutions, both in ops/engines/apicurio/:
#     org.everit.json.schema 1.14.2 (JitPack only) → com.github.erosb:everit-json-schema 1.14.2
#     (the same library on Maven Central), and the missing deployment jar of the Quarkus
#     extension apicurio-common-app-components-config-index 0.1.18.Final, rebuilt from
#     ConfigIndexProcessor.java into the local Maven repository.
# Data, log, pid: $STACK_STATE/registry/{db,tmp,registry.log,registry.pid}.

REGISTRY_VERSION="${SLUICE_REGISTRY_VERSION:-2.4.2.Final}"
REGISTRY_HOST=127.0.0.1
REGISTRY_PORT="${SLUICE_REGISTRY_PORT:-19081}"
REGISTRY_HEAP="${SLUICE_REGISTRY_HEAP:-384m}"

# shellcheck source=ops/engines/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REGISTRY_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/apicurio"
REGISTRY_HOME="$STACK_CACHE/apicurio-registry-$REGISTRY_VERSION"
REGISTRY_STATE="$STACK_STATE/registry"
REGISTRY_PID="$REGISTRY_STATE/registry.pid"
REGISTRY_LOG="$REGISTRY_STATE/registry.log"
REGISTRY_URL="http://$REGISTRY_HOST:$REGISTRY_PORT/apis/ccompat/v7"

# The JDK 17–21 the registry is built with and runs on; fails when there is none.
registry__java_home() { stack_java_home_17_21 "${SLUICE_REGISTRY_JAVA_HOME:-}"; }

# The runnable jar, once built (the build is keyed by the sources in ops/engines/apicurio/).
registry__stamp() { cat "$REGISTRY_SRC"/* | sha256sum | cut -c1-12; }
registry__runner() { echo "$REGISTRY_HOME/app/target/apicurio-registry-run-$REGISTRY_VERSION-runner.jar"; }

registry__mvn() {
  local dir="$1" log="$2"
  shift 2
  if ! JAVA_HOME="$REGISTRY_JAVA_HOME" mvn -B -s "$REGISTRY_SRC/settings.xml" -f "$dir/pom.xml" "$@" >"$log" 2>&1; then
    grep -E '^\[ERROR\]' "$log" | head -20 >&2
    stack_die "registry: mvn $* in $dir failed (log: $log)"
  fi
}

registry_install() {
  REGISTRY_JAVA_HOME="$(registry__java_home)" \
    || stack_die "registry: no Java 17–21 found (apt-get install openjdk-17-jdk-headless, or set SLUICE_REGISTRY_JAVA_HOME)"
  local stamp
  stamp="$(registry__stamp)"
  [[ -f "$REGISTRY_HOME/.done-$stamp" && -f "$(registry__runner)" ]] && return 0
  command -v mvn >/dev/null || stack_die "registry: mvn not found (apt-get install maven)"
  [[ -x "$REGISTRY_JAVA_HOME/bin/javac" ]] \
    || stack_die "registry: no javac in $REGISTRY_JAVA_HOME (the registry is built once: apt-get install openjdk-17-jdk-headless)"
  stack_log "registry: building Apicurio Registry $REGISTRY_VERSION from Maven Central into $REGISTRY_HOME (once; a few minutes)"
  rm -rf "$REGISTRY_HOME"
  local cidx="$REGISTRY_HOME/config-index" app="$REGISTRY_HOME/app"
  mkdir -p "$cidx/src/main/java/sluice/cidx" "$cidx/src/main/resources/META-INF" "$app/src/main/resources" "$app/dl"
  cp "$REGISTRY_SRC/pom-config-index.xml" "$cidx/pom.xml"
  cp "$REGISTRY_SRC/ConfigIndexProcessor.java" "$cidx/src/main/java/sluice/cidx/"
  echo sluice.cidx.ConfigIndexProcessor >"$cidx/src/main/resources/META-INF/quarkus-build-steps.list"
  registry__mvn "$cidx" "$REGISTRY_HOME/config-index.log" -q install -DskipTests
  sed "s/@VERSION@/$REGISTRY_VERSION/g" "$REGISTRY_SRC/pom-registry.xml" >"$app/pom.xml"
  # The registry's own application.properties (in the app jar) configures the Quarkus build.
  registry__mvn "$app" "$REGISTRY_HOME/fetch.log" -q dependency:copy \
    "-Dartifact=io.apicurio:apicurio-registry-app:$REGISTRY_VERSION" -Dtransitive=false "-DoutputDirectory=$app/dl"
  (cd "$app/src/main/resources" && "$REGISTRY_JAVA_HOME/bin/jar" xf "$app/dl/apicurio-registry-app-$REGISTRY_VERSION.jar" application.properties) \
    || stack_die "registry: no application.properties in the app jar"
  cat >>"$app/src/main/resources/application.properties" <<'PROPS'

# sluice: the registry's classes come from a dependency jar that has no Jandex index.
quarkus.index-dependency.apicurio-app.group-id=io.apicurio
quarkus.index-dependency.apicurio-app.artifact-id=apicurio-registry-app
PROPS
  # The parent pom's own checks (checkstyle, licence headers …) are for the registry's sources.
  registry__mvn "$app" "$REGISTRY_HOME/build.log" package -DskipTests -Dcheckstyle.skip -Dlicense.skip \
    -Denforcer.skip -Dspotless.skip -Dmaven.javadoc.skip -Dmaven.source.skip
  [[ -f "$(registry__runner)" ]] || stack_die "registry: the build made no $(registry__runner) (log: $REGISTRY_HOME/build.log)"
  touch "$REGISTRY_HOME/.done-$stamp"
}

registry__answers() { curl -fsS -o /dev/null --max-time 5 "$REGISTRY_URL/subjects" 2>/dev/null; }

registry__wait_alive() {
  stack_pid_alive "$REGISTRY_PID" || { stack_log "registry: the JVM exited; see $REGISTRY_LOG"; tail -20 "$REGISTRY_LOG" >&2 2>/dev/null; return 2; }
  registry__answers
}

registry_up() {
  command -v curl >/dev/null || stack_die "registry: curl not found (readiness is a request to the Confluent API: apt-get install curl)"
  mkdir -p "$REGISTRY_STATE/db" "$REGISTRY_STATE/tmp"
  if stack_pid_alive "$REGISTRY_PID"; then
    stack_log "registry: already running (pid $(cat "$REGISTRY_PID"))"
  else
    stack_port_open "$REGISTRY_PORT" "$REGISTRY_HOST" && stack_die "registry: port $REGISTRY_PORT is taken by another process"
    [[ -n "${REGISTRY_JAVA_HOME:-}" ]] || REGISTRY_JAVA_HOME="$(registry__java_home)" || stack_die "registry: no Java 17–21 found"
    # Profile prod: the registry's production settings; H2 in a file instead of its in-memory
    # default; a small connection pool (one client process per test, not a fleet).
    stack_start_daemon "$REGISTRY_PID" "$REGISTRY_LOG" \
      "$REGISTRY_JAVA_HOME/bin/java" -Xms64m "-Xmx$REGISTRY_HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
      -Djava.io.tmpdir="$REGISTRY_STATE/tmp" -Dfile.encoding=UTF-8 \
      -Dquarkus.profile=prod -Dquarkus.http.host="$REGISTRY_HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
      -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$REGISTRY_STATE/db/registry" \
      -Dquarkus.datasource.jdbc.min-size=2 -Dquarkus.datasource.jdbc.max-size=16 \
      -jar "$(registry__runner)"
    stack_log "registry: started (pid $(cat "$REGISTRY_PID")), log $REGISTRY_LOG"
  fi
  stack_wait 180 "registry at $REGISTRY_URL/subjects" registry__wait_alive || return 1
  stack_log "registry: answers at $REGISTRY_URL (data $REGISTRY_STATE/db)"
}

registry_down() {
  stack_stop_pids 20 "$REGISTRY_PID"
  stack_log "registry: stopped"
  if [[ "$STACK_PURGE" == 1 ]]; then
    rm -rf "$REGISTRY_STATE"
    stack_log "registry: data deleted ($REGISTRY_STATE)"
  fi
}

registry_status() {
  if stack_pid_alive "$REGISTRY_PID"; then
    if registry__answers; then
      echo "registry: up (pid $(cat "$REGISTRY_PID"), $REGISTRY_URL)"
    else
      echo "registry: not healthy (pid $(cat "$REGISTRY_PID") alive, $REGISTRY_URL not answering)"
      return 1
    fi
  else
    echo "registry: down ($REGISTRY_URL)"
    return 1
  fi
}

# Run alone: bash ops/engines/registry.sh up|down|status [--purge]
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up) registry_install && registry_up ;;
    down) [[ "${2:-}" == --purge ]] && STACK_PURGE=1; registry_down ;;
    status) registry_status ;;
    *) echo "usage: bash ops/engines/registry.sh up|down [--purge]|status" >&2; exit 2 ;;
  esac
fi
