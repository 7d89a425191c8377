# shellcheck shell=bash
# ops/engines/lib.sh — helpers shared by ops/stack and every engine file in ops/engines/
# (sourced; sourcing it twice is harmless). Each engine file <name>.sh defines
# <name>_install, <name>_up, <name>_down and <name>_status and can also run alone:
# `bash ops/engines/<name>.sh up|down [--purge]|status`.
#
#   STACK_CACHE  downloads and builds, kept between runs  ($SLUICE_STACK_CACHE, ~/.cache/sluice-stack)
#   STACK_STATE  data, logs and pid files of the engines  ($SLUICE_STACK_STATE, ~/.local/state/sluice-stack)
#   STACK_PURGE  1: `down` also deletes the engine's data

if declare -F stack_log >/dev/null; then return 0; fi

STACK_CACHE="${SLUICE_STACK_CACHE:-$HOME/.cache/sluice-stack}"
STACK_STATE="${SLUICE_STACK_STATE:-$HOME/.local/state/sluice-stack}"
STACK_PURGE="${STACK_PURGE:-0}"
stack_log() { printf '[stack] %s\n' "$*" >&2; }
stack_die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }
stack_port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }
stack_pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
# stack_wait SECONDS WHAT CHECK… — runs CHECK every second until it succeeds; gives up after
# SECONDS (1), or at once when CHECK returns 2 (the engine's process is gone: waiting is futile).
stack_wait() {
  local seconds="$1" what="$2" rc
  shift 2
  local deadline=$((SECONDS + seconds))
  while true; do
    rc=0
    "$@" || rc=$?
    ((rc == 0)) && return 0
    if ((rc == 2)); then stack_log "$what: the process exited"; return 2; fi
    if ((SECONDS >= deadline)); then stack_log "$what: not ready after ${seconds}s"; return 1; fi
    sleep 1
  done
}
stack_start_daemon() {
  local pidfile="$1" logfile="$2"
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
stack_stop_pids() {
  local seconds="$1" f p
  shift
  for f in "$@"; do
    stack_pid_alive "$f" || { rm -f "$f"; continue; }
    p="$(cat "$f")"
    kill -TERM "$p" 2>/dev/null || true
    local deadline=$((SECONDS + seconds))
    while kill -0 "$p" 2>/dev/null; do
      if ((SECONDS >= deadline)); then kill -KILL "$p" 2>/dev/null || true; break; fi
      sleep 0.2
    done
    rm -f "$f"
  done
}

# stack_maven_libs DIR GROUP:ARTIFACT:VERSION… — the jars of these Maven artifacts and all
# their runtime dependencies, from Maven Central, into DIR/lib (once: a DIR/.done marker makes
# later calls free). A Java engine then runs as `java -cp "DIR/lib/*" MainClass`.
stack_maven_libs() {
  local dir="$1"
  shift
  [[ -f "$dir/.done" ]] && return 0
  command -v mvn >/dev/null || stack_die "mvn not found (apt-get install maven)"
  mkdir -p "$dir"
  local deps="" coord g a v
  for coord in "$@"; do
    IFS=: read -r g a v <<<"$coord"
    deps+="<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
  done
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice.stack</groupId><artifactId>$(basename "$dir")</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>$deps</dependencies>
</project>
POM
  stack_log "$(basename "$dir"): fetching $* and dependencies from Maven Central"
  if ! mvn -B -q -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1; then
    tail -20 "$dir/mvn.log" >&2
    stack_die "$(basename "$dir"): mvn dependency:copy-dependencies failed (log: $dir/mvn.log)"
  fi
  touch "$dir/.done"
}

# The home of a JDK 17–21 (engines that do not run on newer ones): $1 when given (an override
# such as SLUICE_OPENSEARCH_JAVA_HOME), else the `java` on PATH if it is one, else a Debian
# openjdk-17; fails when there is none.
stack_java_home_17_21() {
  if [[ -n "${1:-}" ]]; then
    echo "$1"
    return 0
  fi
  local java major d
  java="$(command -v java || true)"
  if [[ -n "$java" ]]; then
    major="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 17 && major <= 21)); then
      dirname "$(dirname "$(readlink -f "$java")")"
      return 0
    fi
  fi
  for d in /usr/lib/jvm/java-17-openjdk-*; do
    [[ -x "$d/bin/java" ]] && { echo "$d"; return 0; }
  done
  return 1
}
