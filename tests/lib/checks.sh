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
