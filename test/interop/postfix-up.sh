#!/usr/bin/env bash
# Start a private Postfix (+ Dovecot for SASL only) on 127.0.0.1 for the interop tests.
#
# Everything lives under one state directory (INTEROP_DIR, default /tmp/nina-interop): its own
# Postfix config, queue and data directories, its own Dovecot config and base_dir, the test
# CA and the Maildir every accepted message is delivered to. A system Postfix or Dovecot, if
# there is one, is neither used nor touched. Mail never leaves the machine: every recipient
# domain is a local virtual mailbox domain and every other transport is an error.
#
# Safe to run again: packages are installed only when missing, the certificates are kept while
# they are valid, and a running instance is reloaded instead of restarted.
# Stop it with postfix-down.sh. See README.md beside this file.
set -Eeuo pipefail

STATE=${INTEROP_DIR:-/tmp/nina-interop}
HOST=127.0.0.1
SUBMISSION_PORT=${INTEROP_SUBMISSION_PORT:-10587}
SMTPS_PORT=${INTEROP_SMTPS_PORT:-10465}
PLAIN_PORT=${INTEROP_PLAIN_PORT:-10025}
USERNAME=${INTEROP_USER:-tester@example.test}
PASSWORD=${INTEROP_PASSWORD:-interop-secret-1}
WAIT_SECS=${INTEROP_WAIT_SECS:-30}
SIZE_LIMIT=10485760
PACKAGES=(postfix dovecot-core openssl ca-certificates)

say() { printf '[interop] %s\n' "$*" >&2; }

# Move "$1.new" over "$1" unless the content is the same. Returns 0 when the file changed.
# The new file gets an mtime a few seconds in the past: Postfix waits up to 2 s for a main.cf
# that was modified "just now" to settle, which would slow every run down.
replace_if_changed() {
  if [[ -f $1 ]] && cmp -s -- "$1.new" "$1"; then
    rm -f -- "$1.new"
    return 1
  fi
  touch -d "@$(($(date +%s) - 10))" -- "$1.new"
  mv -f -- "$1.new" "$1"
}

show_logs() {
  local f
  for f in "$STATE/log/postfix.log" "$STATE/log/dovecot.log"; do
    if [[ -s $f ]]; then
      printf '\n----- last lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# Set once this run has started a daemon, so that a failure stops it again.
STARTED_DOVECOT=""
STARTED_POSTFIX=""

die() {
  trap - ERR
  printf '[interop] FAILED: %s\n' "$*" >&2
  show_logs
  if [[ -n $STARTED_POSTFIX ]]; then
    postfix -c "$STARTED_POSTFIX" stop >/dev/null 2>&1 9>&- || true
  fi
  if [[ -n $STARTED_DOVECOT ]]; then
    kill -TERM "$STARTED_DOVECOT" 2>/dev/null || true
  fi
  [[ -z $STARTED_POSTFIX$STARTED_DOVECOT ]] || printf '[interop] stopped what this run had started\n' >&2
  exit 1
}

trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

# ---------------------------------------------------------------- checks on the input
[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts Postfix)"
[[ $STATE == /* ]] || die "INTEROP_DIR must be an absolute path (got '$STATE')"
STATE=$(realpath -m -- "$STATE")
[[ $STATE != / && $STATE =~ ^[A-Za-z0-9._/-]+$ ]] ||
  die "INTEROP_DIR may only contain letters, digits and . _ - / (got '$STATE')"
for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$PLAIN_PORT"; do
  [[ $p =~ ^[0-9]+$ ]] && ((p >= 1024 && p <= 65535)) || die "port '$p' must be a number in 1024..65535"
done
[[ $SUBMISSION_PORT != "$SMTPS_PORT" && $SUBMISSION_PORT != "$PLAIN_PORT" && $SMTPS_PORT != "$PLAIN_PORT" ]] ||
  die "the three ports must differ"
[[ $USERNAME =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]] || die "INTEROP_USER must look like user@domain"
[[ -n $PASSWORD && $PASSWORD != *$'\n'* && $PASSWORD != *$'\r'* ]] ||
  die "INTEROP_PASSWORD must be non-empty and single-line"
[[ $WAIT_SECS =~ ^[0-9]+$ ]] || die "INTEROP_WAIT_SECS must be a number"

PF_CONF=$STATE/postfix
DC_DIR=$STATE/dovecot
DC_CONF=$DC_DIR/dovecot.conf
DC_RUN=$DC_DIR/run
AUTH_SOCKET=$DC_RUN/auth-postfix
TLS_DIR=$STATE/tls
CA_FILE=$TLS_DIR/ca.crt
MAILDIR=$STATE/mail/catchall
((${#AUTH_SOCKET} < 100)) || die "INTEROP_DIR is too long for a unix socket path ($AUTH_SOCKET)"

mkdir -p "$STATE/log"
chmod 0755 "$STATE" "$STATE/log"
touch "$STATE/.nina-interop" # marker: postfix-down.sh --purge only deletes a directory that has it

# One run at a time per state directory.
exec 9>"$STATE/.lock"
flock -w 120 9 || die "another postfix-up/down holds $STATE/.lock"

started=$(date +%s.%N)

# ---------------------------------------------------------------- packages
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # "No configuration": the package must not write /etc/postfix/main.cf or set up a system MTA.
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # Keep the distribution's own postfix/dovecot services from being started by the install.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also when interrupted
  fi
  apt_ok=1
  apt-get -o DPkg::Lock::Timeout=300 update -qq >"$STATE/log/apt.log" 2>&1 &&
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}" >>"$STATE/log/apt.log" 2>&1 || apt_ok=0
  if ((made_policy)); then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  if ((!apt_ok)); then
    tail -n 30 "$STATE/log/apt.log" >&2
    die "apt-get could not install ${missing[*]} (full log: $STATE/log/apt.log)"
  fi
fi
for u in postfix dovecot dovenull; do
  id "$u" >/dev/null 2>&1 || die "system user '$u' is missing (postfix/dovecot-core install incomplete?)"
done
getent group postdrop >/dev/null || die "group 'postdrop' is missing (postfix install incomplete?)"

# Owner of the delivered mail: the invoking user under sudo, else nobody/nogroup; overridable.
if [[ -z ${INTEROP_MAIL_UID:-} && ${SUDO_UID:-0} =~ ^[0-9]+$ ]] && ((${SUDO_UID:-0} >= 100)); then
  MAIL_UID=$SUDO_UID MAIL_GID=${SUDO_GID:-$SUDO_UID}
else
  MAIL_UID=${INTEROP_MAIL_UID:-$(id -u nobody)} MAIL_GID=$(getent group nogroup | cut -d: -f3)
fi
MAIL_GID=${INTEROP_MAIL_GID:-$MAIL_GID}
[[ $MAIL_UID =~ ^[0-9]+$ && $MAIL_GID =~ ^[0-9]+$ ]] && ((MAIL_UID >= 100)) ||
  die "mail owner uid/gid must be numeric and uid >= 100 (got $MAIL_UID:$MAIL_GID)"

# ---------------------------------------------------------------- directories
mkdir -p "$PF_CONF" "$STATE/queue" "$STATE/data" "$STATE/log" "$TLS_DIR" "$DC_DIR" "$DC_RUN" "$DC_DIR/state" \
  "$MAILDIR"/{cur,new,tmp}
chown root:root "$PF_CONF" "$STATE/queue" "$STATE/log" "$TLS_DIR" "$DC_DIR"
chmod 0755 "$PF_CONF" "$STATE/queue" "$STATE/log" "$DC_DIR"
chmod 0700 "$TLS_DIR"
chown postfix:postfix "$STATE/data"
chmod 0700 "$STATE/data"
chown -R "$MAIL_UID:$MAIL_GID" "$STATE/mail"
chmod 0755 "$STATE/mail"
touch "$STATE/log/postfix.log" "$STATE/log/dovecot.log"

# ---------------------------------------------------------------- TLS: a private CA and a localhost certificate
tls_ok() {
  [[ -s $CA_FILE && -s $TLS_DIR/ca.key && -s $TLS_DIR/server.crt && -s $TLS_DIR/server.key ]] &&
    openssl x509 -in "$TLS_DIR/server.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
    openssl verify -CAfile "$CA_FILE" "$TLS_DIR/server.crt" >/dev/null 2>&1
}
tls_changed=0
if ! tls_ok; then
  tls_changed=1
  say "generating test CA and localhost certificate in $TLS_DIR"
  rm -f "$TLS_DIR"/*
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout "$TLS_DIR/ca.key" -out "$CA_FILE" -subj '/O=nina-smtp interop/CN=nina-smtp interop test CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    >/dev/null 2>&1
  openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" -subj '/O=nina-smtp interop/CN=localhost' \
    >/dev/null 2>&1
  cat >"$TLS_DIR/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
  openssl x509 -req -sha256 -days 825 -in "$TLS_DIR/server.csr" -CA "$CA_FILE" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -out "$TLS_DIR/server.crt" -extfile "$TLS_DIR/server.ext" >/dev/null 2>&1
  tls_ok || die "generated certificate does not verify against the test CA"
fi
chmod 0600 "$TLS_DIR"/*.key
chmod 0644 "$CA_FILE" "$TLS_DIR/server.crt"

# ---------------------------------------------------------------- Dovecot: SASL authentication only
# passwd-file with a SHA512-CRYPT hash (handles any password character, ':' included).
# Reuse the salt of an existing entry so that an unchanged password gives an unchanged file.
salt=$(sed -n 's/^[^:]*:{SHA512-CRYPT}\$6\$\([^$]*\)\$.*/\1/p' "$DC_DIR/users" 2>/dev/null | head -n 1) || salt=""
[[ $salt =~ ^[A-Za-z0-9./]{1,16}$ ]] || salt=$(openssl rand -hex 8)
hash=$(printf '%s\n' "$PASSWORD" | openssl passwd -6 -salt "$salt" -stdin)
printf '%s:{SHA512-CRYPT}%s\n' "$USERNAME" "$hash" >"$DC_DIR/users.new"
chown root:dovecot "$DC_DIR/users.new"
chmod 0640 "$DC_DIR/users.new"
replace_if_changed "$DC_DIR/users" || true # Dovecot re-reads a passwd-file when it changes

cat >"$DC_CONF.new" <<EOF
# Generated by test/interop/postfix-up.sh: a Dovecot that only answers Postfix SASL requests.
instance_name = nina-interop
base_dir = $DC_RUN
state_dir = $DC_DIR/state
log_path = $STATE/log/dovecot.log
info_log_path = $STATE/log/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
# Postfix already enforces TLS where the test needs it (smtpd_tls_auth_only on the submission port).
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Fast failures for the wrong-password tests.
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $DC_DIR/users
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$MAILDIR
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  # No growing per-IP penalty after failed logins: every test connects from 127.0.0.1.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
doveconf -c "$DC_CONF.new" -n >/dev/null 2>"$STATE/log/doveconf.err" ||
  die "dovecot config rejected: $(cat "$STATE/log/doveconf.err")"
dc_changed=0
replace_if_changed "$DC_CONF" && dc_changed=1

dovecot_pid() {
  local pid
  [[ -s $DC_RUN/master.pid ]] || return 1
  pid=$(<"$DC_RUN/master.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Only our instance: its command line names our config file.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DC_CONF" || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- Postfix configuration
cat >"$PF_CONF/main.cf.new" <<EOF
# Generated by test/interop/postfix-up.sh. A private instance: start/stop with postfix -c $PF_CONF.
compatibility_level = 3.6
queue_directory = $STATE/queue
data_directory = $STATE/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = nina-interop
maillog_file = $STATE/log/postfix.log
maillog_file_prefixes = $STATE/log
readme_directory = no
biff = no

# Loopback only, no DNS, no real host name needed.
inet_interfaces = $HOST
inet_protocols = ipv4
myhostname = localhost.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.1/32
append_dot_mydomain = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native

# Nothing leaves the machine: every domain is a local virtual mailbox domain delivered to one
# Maildir; the transports that could reach the network are errors.
relayhost =
relay_domains =
default_transport = error:nina-interop delivers locally only
relay_transport = error:nina-interop delivers locally only
local_transport = error:nina-interop delivers locally only
alias_maps =
alias_database =
local_recipient_maps =
virtual_transport = virtual
virtual_mailbox_domains = static:all
virtual_mailbox_base = $STATE/mail
virtual_mailbox_maps = static:catchall/
virtual_uid_maps = static:$MAIL_UID
virtual_gid_maps = static:$MAIL_GID
virtual_minimum_uid = 100
message_size_limit = $SIZE_LIMIT
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h

# SMTP server. The per-port differences are in master.cf.
smtpd_banner = \$myhostname ESMTP nina-interop
smtpd_error_sleep_time = 0s
smtpd_tls_chain_files = $TLS_DIR/server.key, $TLS_DIR/server.crt
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $AUTH_SOCKET
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = no
# Only authenticated clients may send, to any address (delivered locally, see above).
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions =
EOF

cat >"$PF_CONF/master.cf.new" <<EOF
# Generated by test/interop/postfix-up.sh. Nothing runs chrooted.
# service             type  private unpriv chroot wakeup maxproc command
# Submission: STARTTLS offered and required; AUTH only after STARTTLS.
$HOST:$SUBMISSION_PORT inet n       -      n      -      -       smtpd
  -o syslog_name=nina-interop/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
# Implicit TLS (TLS from the first byte).
$HOST:$SMTPS_PORT inet   n       -      n      -      -       smtpd
  -o syslog_name=nina-interop/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
# Plain text: no STARTTLS offered at all, AUTH allowed in clear. CHUNKING is not offered
# here, so clients use DATA (dot-stuffing, the end-of-data dot) against a real MTA too.
$HOST:$PLAIN_PORT inet   n       -      n      -      -       smtpd
  -o syslog_name=nina-interop/plain
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
  -o smtpd_discard_ehlo_keywords=chunking
pickup     unix       n       -      n      60     1       pickup
cleanup    unix       n       -      n      -      0       cleanup
qmgr       unix       n       -      n      300    1       qmgr
tlsmgr     unix       -       -      n      1000?  1       tlsmgr
rewrite    unix       -       -      n      -      -       trivial-rewrite
bounce     unix       -       -      n      -      0       bounce
defer      unix       -       -      n      -      0       bounce
trace      unix       -       -      n      -      0       bounce
verify     unix       -       -      n      -      1       verify
flush      unix       n       -      n      1000?  0       flush
proxymap   unix       -       -      n      -      -       proxymap
proxywrite unix       -       -      n      -      1       proxymap
showq      unix       n       -      n      -      -       showq
error      unix       -       -      n      -      -       error
retry      unix       -       -      n      -      -       error
discard    unix       -       -      n      -      -       discard
virtual    unix       -       n      n      -      -       virtual
anvil      unix       -       -      n      -      1       anvil
scache     unix       -       -      n      -      1       scache
postlog    unix-dgram n       -      n      -      1       postlogd
EOF
pf_changed=$tls_changed
replace_if_changed "$PF_CONF/main.cf" && pf_changed=1
replace_if_changed "$PF_CONF/master.cf" && pf_changed=1

# fd 9 holds our lock: the daemons must not inherit it.
pf() { postfix -c "$PF_CONF" "$@" 9>&-; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# ---------------------------------------------------------------- start or reload
pf_running=0
pf status >/dev/null 2>&1 && pf_running=1
if ((!pf_running)); then
  for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$PLAIN_PORT"; do
    port_open "$p" && die "port $p on $HOST is already in use by another program (set INTEROP_*_PORT)"
  done
fi

if pid=$(dovecot_pid); then
  if ((dc_changed)); then
    say "dovecot instance (pid $pid) already running: reloading its changed configuration"
    kill -HUP "$pid"
  else
    say "dovecot instance (pid $pid) already running"
  fi
else
  rm -f "$DC_RUN/master.pid"
  dovecot -c "$DC_CONF" 9>&- 2>"$STATE/log/dovecot-start.err" || die "dovecot did not start: $(cat "$STATE/log/dovecot-start.err")"
  for _ in $(seq 1 50); do
    STARTED_DOVECOT=$(dovecot_pid) && break
    sleep 0.1
  done
  [[ -n $STARTED_DOVECOT ]] || die "dovecot started but $DC_RUN/master.pid names no running dovecot"
fi

if ((pf_running)); then
  if ((pf_changed)); then
    say "postfix instance already running: reloading its changed configuration"
    pf reload >/dev/null 2>&1 || die "postfix reload failed"
  else
    say "postfix instance already running"
  fi
else
  pf check >"$STATE/log/postfix-check.log" 2>&1 || die "postfix check failed: $(tail -n 20 "$STATE/log/postfix-check.log")"
  STARTED_POSTFIX=$PF_CONF
  pf start >"$STATE/log/postfix-start.log" 2>&1 || die "postfix did not start: $(tail -n 20 "$STATE/log/postfix-start.log")"
fi

# ---------------------------------------------------------------- wait until usable
deadline=$(($(date +%s) + WAIT_SECS))
until [[ -S $AUTH_SOCKET ]]; do
  (($(date +%s) < deadline)) || die "dovecot auth socket $AUTH_SOCKET did not appear within ${WAIT_SECS}s"
  sleep 0.2
done
for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$PLAIN_PORT"; do
  until port_open "$p"; do
    (($(date +%s) < deadline)) || die "port $p on $HOST not accepting connections after ${WAIT_SECS}s"
    sleep 0.2
  done
done

# The certificate the server presents must verify against our CA for the name "localhost".
tls_selftest() { # args: extra s_client options
  timeout 10 openssl s_client -connect "$HOST:$1" "${@:2}" -CAfile "$CA_FILE" -verify_hostname localhost \
    -verify_return_error </dev/null >"$STATE/log/tls-selftest.log" 2>&1
}
tls_selftest "$SMTPS_PORT" || die "TLS self-test on port $SMTPS_PORT failed: $(tail -n 5 "$STATE/log/tls-selftest.log")"
tls_selftest "$SUBMISSION_PORT" -starttls smtp ||
  die "STARTTLS self-test on port $SUBMISSION_PORT failed: $(tail -n 5 "$STATE/log/tls-selftest.log")"

# End-to-end check of the SASL path (Postfix -> Dovecot) on the plain port: EHLO, AUTH PLAIN, QUIT.
sasl_selftest() {
  local token line code=""
  token=$(printf '\0%s\0%s' "$USERNAME" "$PASSWORD" | base64 -w0)
  exec 3<>"/dev/tcp/$HOST/$PLAIN_PORT" || return 1
  read -r -t 10 line <&3 || return 1 # 220 greeting
  [[ $line == 220* ]] || return 1
  printf 'EHLO selftest.localdomain\r\n' >&3
  while read -r -t 10 line <&3; do [[ $line == 250\ * ]] && break; done
  printf 'AUTH PLAIN %s\r\n' "$token" >&3
  read -r -t 10 line <&3 && code=${line:0:3}
  printf 'QUIT\r\n' >&3
  exec 3>&-
  [[ $code == 235 ]]
}
ok=0
for _ in 1 2 3 4 5; do
  if sasl_selftest; then ok=1 && break; fi
  sleep 1
done
((ok)) || die "SASL self-test (AUTH PLAIN as $USERNAME on port $PLAIN_PORT) did not get 235"

# ---------------------------------------------------------------- tell the tests where everything is
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
jsq() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
{
  echo "# Written by test/interop/postfix-up.sh; source it or read KEY='value' lines."
  echo "INTEROP_DIR=$(shq "$STATE")"
  echo "INTEROP_HOST=$HOST"
  echo "INTEROP_TLS_SERVERNAME=localhost"
  echo "INTEROP_SUBMISSION_PORT=$SUBMISSION_PORT"
  echo "INTEROP_SMTPS_PORT=$SMTPS_PORT"
  echo "INTEROP_PLAIN_PORT=$PLAIN_PORT"
  echo "INTEROP_USER=$(shq "$USERNAME")"
  echo "INTEROP_PASSWORD=$(shq "$PASSWORD")"
  echo "INTEROP_CA_FILE=$(shq "$CA_FILE")"
  echo "INTEROP_MAILDIR=$(shq "$MAILDIR")"
  echo "INTEROP_SIZE_LIMIT=$SIZE_LIMIT"
  echo "INTEROP_POSTFIX_LOG=$(shq "$STATE/log/postfix.log")"
  echo "INTEROP_DOVECOT_LOG=$(shq "$STATE/log/dovecot.log")"
} >"$STATE/interop.env.new"
{
  echo "{"
  echo "  \"dir\": $(jsq "$STATE"),"
  echo "  \"host\": \"$HOST\","
  echo "  \"servername\": \"localhost\","
  echo "  \"ports\": { \"submission\": $SUBMISSION_PORT, \"smtps\": $SMTPS_PORT, \"plain\": $PLAIN_PORT },"
  echo "  \"user\": $(jsq "$USERNAME"),"
  echo "  \"password\": $(jsq "$PASSWORD"),"
  echo "  \"caFile\": $(jsq "$CA_FILE"),"
  echo "  \"maildir\": $(jsq "$MAILDIR"),"
  echo "  \"sizeLimit\": $SIZE_LIMIT,"
  echo "  \"postfixLog\": $(jsq "$STATE/log/postfix.log"),"
  echo "  \"dovecotLog\": $(jsq "$STATE/log/dovecot.log")"
  echo "}"
} >"$STATE/interop.json.new"
chmod 0644 "$STATE/interop.env.new" "$STATE/interop.json.new"
mv -f "$STATE/interop.env.new" "$STATE/interop.env"
mv -f "$STATE/interop.json.new" "$STATE/interop.json"

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
cat >&2 <<EOF
[interop] ready in ${elapsed}s (state: $STATE)
  submission (STARTTLS required) $HOST:$SUBMISSION_PORT
  implicit TLS                   $HOST:$SMTPS_PORT
  plain (no TLS, AUTH in clear)  $HOST:$PLAIN_PORT
  user $USERNAME  (AUTH PLAIN / LOGIN)   size limit $SIZE_LIMIT bytes
  CA file  $CA_FILE   (server name: localhost)
  Maildir  $MAILDIR
  env      $STATE/interop.env   json $STATE/interop.json
  logs     $STATE/log/postfix.log  $STATE/log/dovecot.log
EOF
