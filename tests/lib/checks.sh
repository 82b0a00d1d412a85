# The check helpers and clean-up shared by the daemon tests in tests/cli.
# Sourced, not a test. It provides:
#   $T         a private temporary directory, removed at exit
#   stop       ends the daemon whose pid is in $PID (also run at exit; a
#              script that starts more processes defines on_exit for them)
#   ok, bad, check NAME CMD...
#              count into $pass and $fails; a failure shows the status of the
#              last call ($REPLY_STATUS, when the script sets it) and the start
#              of the last answer ($T/out)
#   jqt        jq -e, quietly
#   b64url, b64url_dec
#              base64url without padding, and back (padding restored)
T=$(mktemp -d)
PID=
stop() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
on_exit() { :; }
trap 'stop; on_exit; rm -rf "$T"' EXIT
pass=0
fails=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1${REPLY_STATUS:+ (status $REPLY_STATUS)}"
    [ -s "$T/out" ] && head -c 2000 "$T/out" | sed 's/^/  body: /' && echo
    fails=$((fails + 1))
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
jqt() { jq -e "$@" >/dev/null; }
b64url() { basenc --base64url -w0 | tr -d '='; }
b64url_dec() {
    local s
    s=$(cat)
    while [ $((${#s} % 4)) != 0 ]; do s="$s="; done
    printf '%s' "$s" | basenc --base64url -d
}
# await_daemon SCHEME [CURL-ARGS...]: waits (up to 30 s) until the daemon in
# $PID has written $T/port and answers /healthz over SCHEME; sets PORT and
# BASE. When it does not, prints its log ($T/daemon.log) and exits.
await_daemon() {
    local scheme=$1
    shift
    for _ in $(seq 1 300); do
        if [ -s "$T/port" ]; then
            PORT=$(cat "$T/port")
            BASE="$scheme://127.0.0.1:$PORT"
            if curl -s -o /dev/null "$@" "$BASE/healthz" 2>/dev/null; then return 0; fi
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: vouch-attestd did not start"
    sed 's/^/  log: /' "$T/daemon.log"
    exit 1
}
