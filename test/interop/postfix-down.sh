#!/usr/bin/env bash
# Stop the private Postfix and Dovecot that postfix-up.sh started, and nothing else.
# The state directory (logs, Maildir, CA) is kept for inspection unless --purge is given.
set -Euo pipefail

STATE=${INTEROP_DIR:-/tmp/nina-interop}
PURGE=0
for arg in "$@"; do
  case $arg in
    --purge) PURGE=1 ;;
    -h | --help)
      echo "usage: $0 [--purge]   (state dir: \$INTEROP_DIR, default /tmp/nina-interop)"
      exit 0
      ;;
    *)
      echo "[interop] unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

say() { printf '[interop] %s\n' "$*" >&2; }

# Alive and not a zombie waiting to be reaped.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

[[ $(id -u) -eq 0 ]] || { say "must run as root"; exit 1; }
[[ $STATE == /* ]] || { say "INTEROP_DIR must be an absolute path"; exit 1; }
STATE=$(realpath -m -- "$STATE")
if [[ ! -d $STATE ]]; then
  say "nothing to stop: $STATE does not exist"
  exit 0
fi
if [[ ! -e $STATE/.nina-interop ]]; then
  say "$STATE was not made by postfix-up.sh (no .nina-interop marker): not touching it"
  exit 1
fi

exec 9>"$STATE/.lock"
flock -w 120 9 || { say "another postfix-up/down holds $STATE/.lock"; exit 1; }

PF_CONF=$STATE/postfix
DC_CONF=$STATE/dovecot/dovecot.conf
DC_PIDFILE=$STATE/dovecot/run/master.pid
status=0

# Postfix: only the instance whose configuration directory is ours.
if [[ -f $PF_CONF/main.cf ]] && command -v postfix >/dev/null; then
  if postfix -c "$PF_CONF" status >/dev/null 2>&1 9>&-; then
    if postfix -c "$PF_CONF" stop >/dev/null 2>&1 9>&-; then
      say "postfix instance ($PF_CONF) stopped"
    else
      say "postfix -c $PF_CONF stop failed"
      status=1
    fi
  else
    say "postfix instance ($PF_CONF) was not running"
  fi
fi

# Dovecot: the master named in our pid file, and only if its command line names our config.
if [[ -s $DC_PIDFILE ]]; then
  pid=$(<"$DC_PIDFILE")
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DC_CONF"; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do
      alive "$pid" || break
      sleep 0.2
    done
    if alive "$pid"; then
      say "dovecot (pid $pid) did not stop in 10s: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "dovecot instance (pid $pid) stopped"
  else
    say "dovecot instance was not running"
  fi
  rm -f "$DC_PIDFILE"
else
  say "dovecot instance was not running"
fi

# The env file means "the rig is up": npm test runs the interop suite only while it exists.
if ((status == 0)); then rm -f -- "$STATE/interop.env" "$STATE/interop.json"; fi

if ((PURGE)); then
  if ((status == 0)); then
    # Only a directory carrying the marker written by postfix-up.sh.
    rm -rf -- "$STATE"
    say "removed $STATE"
  else
    say "not purging $STATE: something failed to stop"
  fi
fi
exit "$status"
