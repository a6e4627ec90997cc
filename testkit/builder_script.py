"""The bash control script (`bin/<product>.sh start|stop|status|run`) written into packs."""

from __future__ import annotations

CONTROL_SCRIPT = r"""#!/usr/bin/env bash
# Start, stop and query this product's server. Usage: $0 start|stop|restart|status|run
#   DRYDOCK_PYTHON        interpreter for the server program (default: python3)
#   DRYDOCK_STOP_TIMEOUT  seconds to wait for the server to exit on stop (default: 30)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
CARBON_HOME="$(cd "$SCRIPT_DIR/.." && pwd -P)"
PID_FILE="$CARBON_HOME/wso2carbon.pid"
SERVER="$CARBON_HOME/bin/carbon_server.py"
LOG_DIR="$CARBON_HOME/repository/logs"
PYTHON="${DRYDOCK_PYTHON:-python3}"
STOP_TIMEOUT="${DRYDOCK_STOP_TIMEOUT:-30}"

alive() {
  # true while process $1 exists and is not a zombie
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z* ]]
}

running_pid() {
  # prints the pid recorded in the pid file when it is a live server of this home
  [[ -f "$PID_FILE" ]] || return 1
  local pid args
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 1
  alive "$pid" || return 1
  args="$(ps -ww -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$args" == *"$SERVER"* ]] || return 1
  echo "$pid"
}

write_pid() {
  local tmp="$PID_FILE.$$.tmp"
  echo "$1" >"$tmp"
  mv -f "$tmp" "$PID_FILE"
}

do_start() {
  local pid
  if pid="$(running_pid)"; then
    echo "server already running (pid $pid)"
    return 0
  fi
  mkdir -p "$LOG_DIR"
  rm -f "$PID_FILE"
  nohup "$PYTHON" "$SERVER" "$CARBON_HOME" </dev/null >>"$LOG_DIR/console.out" 2>&1 &
  pid=$!
  write_pid "$pid"
  echo "server started (pid $pid)"
}

do_stop() {
  local pid waited=0
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    echo "server not running"
    return 0
  fi
  kill -TERM "$pid"
  while alive "$pid"; do
    if (( waited >= STOP_TIMEOUT * 10 )); then
      echo "server (pid $pid) did not stop within ${STOP_TIMEOUT}s" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
  echo "server stopped"
}

do_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "server running (pid $pid)"
    return 0
  fi
  echo "server not running"
  return 3
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop && do_start ;;
  status) do_status ;;
  run) mkdir -p "$LOG_DIR"; exec "$PYTHON" "$SERVER" "$CARBON_HOME" ;;
  *) echo "usage: $0 start|stop|restart|status|run" >&2; exit 2 ;;
esac
"""
