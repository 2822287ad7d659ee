#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian packages and checks them the way a Debian user meets them:
# lintian, the desktop entry and AppStream metadata, the service's sandbox, then
# installs them on this machine with apt-get, runs the installed host as its
# unit would (an unprivileged user, the shipped configuration, a state folder
# of its own), sends it lines from a bot using the installed Python client,
# reads them back as a viewer, and removes and purges everything, checking
# that nothing is left. Needs root: it installs and removes packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${AGENTDECK_PACKAGE_DIR:-$root/build/packages}"
here="$root/packaging/tests"
max_exposure="2.0"

fail() {
    echo "check-packages: $*" >&2
    exit 1
}
step() { echo "-- $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and removes packages)"

# AGENTDECK_REUSE_PACKAGES=1 checks the packages already in the folder again.
if [ "${AGENTDECK_REUSE_PACKAGES:-0}" != 1 ]; then
    AGENTDECK_PACKAGE_DIR="$out" "$root/scripts/package.sh"
fi
"$root/scripts/install-deps.sh" lintian desktop-file-utils appstream appstream-compose systemd \
    util-linux python3-websockets

host_deb="$(ls "$out"/agentdeck-host_*.deb)"
desktop_deb="$(ls "$out"/agentdeck_*.deb)"
client_deb="$(ls "$out"/python3-agentdeck_*.deb)"
work="$(mktemp -d)"
cleanup() {
    [ -n "${host_pid:-}" ] && kill "$host_pid" 2>/dev/null || true
    if [ -n "${installed:-}" ]; then
        # A failed check leaves nothing installed behind either.
        apt-get purge -y -qq agentdeck agentdeck-host python3-agentdeck >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step "lintian: no error, no warning"
lintian --fail-on error,warning \
    "$out"/agentdeck_*_amd64.changes

step "sizes"
for deb in "$out"/*.deb; do
    printf '   %-44s %8d bytes, %6s KiB installed\n' "$(basename "$deb")" "$(stat -c %s "$deb")" \
        "$(dpkg-deb -f "$deb" Installed-Size)"
done

step "stripped and hardened"
mkdir "$work/host" "$work/desktop"
dpkg-deb -x "$host_deb" "$work/host"
dpkg-deb -x "$desktop_deb" "$work/desktop"
for binary in "$work/host/usr/bin/agentdeck-host" "$work/desktop/usr/bin/agentdeck" \
    "$work/desktop/usr/libexec/agentdeck/agentdeck-demo-agent"; do
    name="$(basename "$binary")"
    sections="$(readelf -SW "$binary")"
    dynamic="$(readelf -dW "$binary")"
    segments="$(readelf -lW "$binary")"
    symbols="$(objdump -T "$binary")"
    if grep -q '\.debug_info' <<<"$sections"; then fail "$name is not stripped"; fi
    grep -q 'BIND_NOW' <<<"$dynamic" || fail "$name is not linked with -z now"
    grep -q 'GNU_RELRO' <<<"$segments" || fail "$name has no RELRO"
    grep -q 'PIE' <<<"$dynamic" || fail "$name is not a PIE"
    if grep -qE 'RPATH|RUNPATH' <<<"$dynamic"; then fail "$name has an RPATH"; fi
    grep -q '__stack_chk_fail' <<<"$symbols" || fail "$name has no stack protector"
    grep -qE '__[a-z0-9_]+_chk$' <<<"$symbols" || fail "$name has no fortified calls"
    echo "   $name: stripped, PIE, full RELRO, BIND_NOW, stack protector, fortified"
done

step "desktop entry and AppStream metadata"
desktop-file-validate "$work/desktop/usr/share/applications/io.github.agentdeck.agentdeck.desktop"
appstreamcli validate --no-net --pedantic "$work/desktop/usr/share/metainfo/io.github.agentdeck.agentdeck.metainfo.xml"
appstreamcli compose --no-color --no-net --origin agentdeck --result-root "$work/compose" "$work/desktop"
catalog="$(zcat "$work/compose/usr/share/swcatalog/xml/agentdeck.xml.gz")"
grep -q '<id>io.github.agentdeck.agentdeck</id>' <<<"$catalog" || fail "compose dropped the app"
grep -q '<icon type="cached"' <<<"$catalog" || fail "compose found no icon"
grep -q '<screenshot' <<<"$catalog" || fail "compose found no screenshot"
echo "   compose: the app with its icon and screenshot"

step "the service's sandbox (systemd-analyze security, at most $max_exposure)"
unit="$work/host/lib/systemd/system/agentdeck-host.service"
exposure="$(systemd-analyze security --offline=true --no-pager "$unit" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')"
[ -n "$exposure" ] || fail "systemd-analyze gave no exposure level"
awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' || fail "exposure $exposure is over $max_exposure"
echo "   exposure $exposure"

step "install"
export DEBIAN_FRONTEND=noninteractive
installed=1
apt-get install -y -qq "$host_deb" "$client_deb" "$desktop_deb" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "apt-get install failed"; }
dpkg-query -W -f='${Conffiles}\n' agentdeck-host | grep -q '/etc/agentdeck/host.json' ||
    fail "/etc/agentdeck/host.json is not a conffile"
[ -L /etc/systemd/system/multi-user.target.wants/agentdeck-host.service ] || fail "the service is not enabled"
agentdeck-host --version | grep -q "$(dpkg-query -W -f='${Version}' agentdeck-host)" || fail "agentdeck-host --version"
agentdeck --version >/dev/null || fail "agentdeck --version"
[ -x /usr/libexec/agentdeck/agentdeck-demo-agent ] || fail "no demo agent in /usr/libexec/agentdeck"
for page in agentdeck agentdeck-host; do
    man -w "$page" >/dev/null || fail "no manual page for $page"
done
[ -f /usr/share/icons/hicolor/scalable/apps/io.github.agentdeck.agentdeck.svg ] || fail "no scalable icon"
for doc in agentdeck-host/protocol.md agentdeck-host/configuration.md agentdeck-host/security.md \
    python3-agentdeck/README.md python3-agentdeck/examples/chat_bot.py python3-agentdeck/examples/pipeline.py; do
    [ -f "/usr/share/doc/$doc" ] || fail "no /usr/share/doc/$doc"
done
documentation="$(sed -n 's/^Documentation=//p' /lib/systemd/system/agentdeck-host.service)"
for target in $documentation; do
    case "$target" in
    man:*)
        page="${target#man:}"
        section="${page#*(}"
        man -w "${section%)}" "${page%%(*}" >/dev/null || fail "Documentation=$target: no such manual page"
        ;;
    file:*) [ -f "${target#file:}" ] || fail "Documentation=$target: no such file" ;;
    esac
done
echo "   installed; conffile, enabled unit, programs, manual pages, icon, documents, examples"

step "the installed host as its unit runs it"
# As the unit: a user of its own with no other rights, umask 077, the state
# folder (StateDirectory=agentdeck, mode 0700) as XDG_CONFIG_HOME and
# XDG_STATE_HOME's agentdeck folder, and the shipped configuration.
uid=61999
state="$work/var-lib"
chmod 0711 "$work" # the service's user passes through to its state folder
mkdir -p "$state/agentdeck"
chown "$uid:$uid" "$state/agentdeck"
chmod 0700 "$state/agentdeck"
exec_start="$(sed -n 's/^ExecStart=//p' /lib/systemd/system/agentdeck-host.service)"
[ "$exec_start" = "/usr/bin/agentdeck-host --config /etc/agentdeck/host.json" ] || fail "unexpected ExecStart: $exec_start"
# The shipped port may be taken on this machine: a free one instead.
(umask 077 && exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs \
    env -i PATH=/usr/bin:/bin XDG_CONFIG_HOME="$state" XDG_STATE_HOME="$state" \
    $exec_start --port 0) >"$work/host.log" 2>&1 &
host_pid=$!
url=""
for _ in $(seq 100); do
    url="$(sed -n 's/.* listening on \(ws:[^ ]*\).*/\1/p' "$work/host.log")"
    [ -n "$url" ] && break
    kill -0 "$host_pid" 2>/dev/null || { cat "$work/host.log"; fail "the host exited"; }
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/host.log"; fail "the host did not start listening"; }
case "$url" in ws://127.0.0.1:*) ;; *) fail "the host listens on $url, not on loopback" ;; esac
token="$state/agentdeck/token"
grep -q "Token: in $token (new)" "$work/host.log" || { cat "$work/host.log"; fail "the host did not say where its token is"; }
[ "$(stat -c '%a %u' "$token")" = "600 $uid" ] || fail "token file: $(stat -c '%a %u' "$token"), not 600 owned by the service"
echo "   listening on $url, token in $token (0600, the service's own)"

step "a bot with the installed client, read back by a viewer"
cp "$token" "$work/token"
chmod 0600 "$work/token"
set +e
(cd "$work" && /usr/bin/python3 -m agentdeck run --id packaged --url "$url" --token-file "$work/token" -- \
    sh -c 'echo first line; echo second line >&2; echo third line; exit 3')
status=$?
set -e
[ "$status" -eq 3 ] || fail "python3 -m agentdeck run returned $status, not the program's exit code 3"
(cd "$work" && /usr/bin/python3 -c 'import agentdeck, sys; sys.exit(not agentdeck.__file__.startswith("/usr/lib/python3/dist-packages/"))') ||
    fail "the client was not imported from the package"
lines="$(/usr/bin/python3 "$here/viewer_history.py" "$url" "$work/token" packaged)"
echo "$lines" | sed 's/^/   /'
for expected in "stdout first line" "stderr second line" "stdout third line"; do
    grep -q " $expected\$" <<<"$lines" || fail "the host does not have '$expected'"
done
kill -TERM "$host_pid"
wait "$host_pid" || fail "the host did not stop cleanly on SIGTERM"
host_pid=""

step "the installed desktop app runs its demo"
port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/home"
(cd "$work" && exec env HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_STATE_HOME="$work/home/state" \
    QT_QPA_PLATFORM=offscreen agentdeck --port "$port") >"$work/desktop.log" 2>&1 &
desktop_pid=$!
demo_lines=""
for _ in $(seq 150); do
    if [ -f "$work/home/config/agentdeck/token" ]; then
        demo_lines="$(/usr/bin/python3 "$here/viewer_history.py" "ws://127.0.0.1:$port/" \
            "$work/home/config/agentdeck/token" demo-query 2>/dev/null || true)"
        [ -n "$demo_lines" ] && break
    fi
    kill -0 "$desktop_pid" 2>/dev/null || { cat "$work/desktop.log"; fail "agentdeck exited"; }
    sleep 0.2
done
kill -TERM "$desktop_pid" 2>/dev/null || true
wait "$desktop_pid" || true
[ -n "$demo_lines" ] || { cat "$work/desktop.log"; fail "the demo agent printed nothing"; }
echo "   demo-query: $(wc -l <<<"$demo_lines") lines, e.g. $(head -n 1 <<<"$demo_lines")"

step "remove and purge"
apt-get remove -y -qq agentdeck agentdeck-host python3-agentdeck >"$work/remove.log" 2>&1 ||
    { cat "$work/remove.log"; fail "apt-get remove failed"; }
[ -f /etc/agentdeck/host.json ] || fail "remove took the configuration (only purge may)"
[ -e /usr/bin/agentdeck-host ] && fail "remove left /usr/bin/agentdeck-host"
apt-get purge -y -qq agentdeck agentdeck-host python3-agentdeck >"$work/purge.log" 2>&1 ||
    { cat "$work/purge.log"; fail "apt-get purge failed"; }
left=()
for path in /etc/agentdeck /var/lib/agentdeck /var/lib/private/agentdeck /lib/systemd/system/agentdeck-host.service \
    /etc/systemd/system/multi-user.target.wants/agentdeck-host.service /usr/libexec/agentdeck \
    /usr/lib/python3/dist-packages/agentdeck /usr/share/doc/agentdeck-host /usr/share/doc/agentdeck; do
    if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
done
left+=($(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*agentdeck*' 2>/dev/null || true))
installed=""
[ ${#left[@]} -eq 0 ] || fail "purge left: ${left[*]}"
for package in agentdeck agentdeck-host python3-agentdeck; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)"
    [ -z "$status" ] || [ "$status" = "not-installed" ] || fail "dpkg still has $package ($status)"
done
echo "   nothing left behind"
echo "check-packages: all checks passed"
