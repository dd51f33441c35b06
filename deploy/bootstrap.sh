#!/usr/bin/env bash
# Makes sure what XueJi runs on is there: PostgreSQL, Redis and RabbitMQ answering on localhost,
# the RabbitMQ plugins the partner-province shovels need, and a .venv matching the requirements.
#
# Idempotent and silent when everything is in place. On a fresh Debian 12 run as root it installs
# and starts what is missing. A server that already answers is left exactly as it is: on the
# team's machines they were started by hand, not by systemd, so "is it there?" is always a real
# connection attempt, never a service-manager query. Nothing here stops a server, with one
# exception: as root, PostgreSQL is restarted once if it allows fewer connections than the tests need.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
REQUIREMENTS_STAMP="$VENV/.requirements.sha256"
# The shovel moves events between provinces; its management plugin shows shovel status on 15672.
RABBITMQ_PLUGINS=(rabbitmq_shovel rabbitmq_shovel_management rabbitmq_management)
REDIS_START=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
    --dir /var/lib/redis --logfile /var/log/redis/xueji.log)

export DEBIAN_FRONTEND=noninteractive
# The server tools live in sbin, which a non-root user's PATH often lacks.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# What a non-root caller must do: collected, printed together at the end, exit 1.
NEEDS_ROOT=()
# Usage: need_root "what is wrong" "command that fixes it" || return 0
need_root() {
    is_root && return 0
    NEEDS_ROOT+=("$1" "$2")
    return 1
}

APT_UPDATED=0
apt_install() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        say "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    apt-get install -y -qq "$@" >/dev/null
}

# A real TCP connection, bounded so a filtered port cannot hang the script.
tcp_open() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# Usage: wait_until SECONDS command...
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# --- PostgreSQL ------------------------------------------------------------------------------

# The newest Debian cluster named "main" (Debian 12 ships 15), empty when there is none.
pg_cluster_version() {
    local dir
    for dir in /etc/postgresql/*/main; do
        if [[ -d $dir ]]; then basename "$(dirname "$dir")"; fi
    done | sort -V | tail -n 1
}

postgres_answers() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        tcp_open 127.0.0.1 5432
    fi
}

# XueJi connects as postgres over TCP without a password (XUEJI_DATABASE_URL).
postgres_trusts_tcp() {
    PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1
}

trust_local_tcp() {
    local version=$1 hba="/etc/postgresql/$1/main/pg_hba.conf" address
    [[ -f $hba ]] || die "PostgreSQL refuses postgres@127.0.0.1 without a password and $hba is missing"
    say "setting trust for postgres over 127.0.0.1 and ::1 in $hba"
    # Debian ships these two host lines with scram-sha-256; switch their method in place.
    sed -E -i.xueji-orig \
        's#^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)[^[:space:]].*$#\1trust#' \
        "$hba"
    # A file without them gets the lines on top (the first matching line decides).
    for address in ::1/128 127.0.0.1/32; do
        if ! grep -Eq "^host[[:space:]]+all[[:space:]]+all[[:space:]]+${address//./\\.}[[:space:]]+trust" "$hba"; then
            sed -i "1i host    all    all    $address    trust" "$hba"
        fi
    done
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
}

ensure_postgresql() {
    if ! postgres_answers; then
        if [[ -z $(pg_cluster_version) ]]; then
            need_root "PostgreSQL is not installed" "apt-get install -y postgresql" || return 0
            apt_install postgresql
        fi
        # Without systemd (containers, this team's machines) the package leaves the cluster stopped.
        if ! postgres_answers; then
            local version
            version=$(pg_cluster_version)
            [[ -n $version ]] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
            need_root "PostgreSQL $version is not running" \
                "pg_ctlcluster --skip-systemctl-redirect $version main start" || return 0
            say "starting PostgreSQL $version"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start
            wait_until 30 postgres_answers || die "PostgreSQL did not start; see /var/log/postgresql/"
        fi
    fi
    if ! command -v psql >/dev/null; then
        need_root "the PostgreSQL client (psql) is not installed" "apt-get install -y postgresql-client" || return 0
        apt_install postgresql-client
    fi
    if ! postgres_trusts_tcp; then
        local version
        version=$(pg_cluster_version)
        [[ -n $version ]] || die "PostgreSQL on 127.0.0.1 asks postgres for a password and is not a Debian" \
            "cluster this script can configure: allow trust for postgres from 127.0.0.1 and ::1 yourself"
        need_root "PostgreSQL asks postgres@127.0.0.1 for a password" \
            "set the method of the 'host all all 127.0.0.1/32' and '::1/128' lines to trust in
      /etc/postgresql/$version/main/pg_hba.conf, then: pg_ctlcluster $version main reload" || return 0
        trust_local_tcp "$version"
        wait_until 10 postgres_trusts_tcp || die "psql -h 127.0.0.1 -U postgres still fails after the pg_hba.conf change"
    fi
    ensure_postgresql_connections
}

# Three provinces of fifteen processes each (the end-to-end and chaos tests) need more than the
# default 100 connections.
PG_MIN_CONNECTIONS=300
ensure_postgresql_connections() {
    local current version
    current=$(psql -h 127.0.0.1 -U postgres -d postgres -w -Atqc 'show max_connections' 2>/dev/null || echo 0)
    ((current >= PG_MIN_CONNECTIONS)) && return 0
    version=$(pg_cluster_version)
    need_root "PostgreSQL allows $current connections, the tests need $PG_MIN_CONNECTIONS" \
        "psql -U postgres -c 'ALTER SYSTEM SET max_connections = $PG_MIN_CONNECTIONS', then restart PostgreSQL" || return 0
    [[ -n $version ]] || die "cannot restart PostgreSQL to raise max_connections: not a Debian cluster"
    say "raising PostgreSQL max_connections from $current to $PG_MIN_CONNECTIONS (restart)"
    psql -h 127.0.0.1 -U postgres -d postgres -w -Atqc "ALTER SYSTEM SET max_connections = $PG_MIN_CONNECTIONS" >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    wait_until 30 postgres_trusts_tcp || die "PostgreSQL did not come back after raising max_connections"
}

# --- Redis -----------------------------------------------------------------------------------

redis_answers() {
    if command -v redis-cli >/dev/null; then
        [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]
    else
        tcp_open 127.0.0.1 6379
    fi
}

ensure_redis() {
    redis_answers && return 0
    if ! command -v redis-server >/dev/null; then
        need_root "Redis is not installed" "apt-get install -y redis-server" || return 0
        apt_install redis-server
        redis_answers && return 0 # started by the package where systemd runs
    fi
    local start
    printf -v start '%q ' "${REDIS_START[@]}"
    need_root "Redis is not running" "mkdir -p /var/lib/redis /var/log/redis && ${start% }" || return 0
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    "${REDIS_START[@]}"
    wait_until 10 redis_answers || die "Redis did not start; see /var/log/redis/xueji.log"
}

# --- RabbitMQ --------------------------------------------------------------------------------

rabbitmq_answers() { tcp_open 127.0.0.1 5672; }

ensure_rabbitmq() {
    if ! rabbitmq_answers; then
        if ! command -v rabbitmq-server >/dev/null; then
            need_root "RabbitMQ is not installed" "apt-get install -y rabbitmq-server" || return 0
            apt_install rabbitmq-server
        fi
        if ! rabbitmq_answers; then
            need_root "RabbitMQ is not running" "rabbitmq-server -detached && rabbitmqctl await_startup" || return 0
            say "starting RabbitMQ"
            # -detached warns that it wrote no PID file; that is expected.
            rabbitmq-server -detached >/dev/null 2>&1
            rabbitmqctl -q await_startup
        fi
    fi
    local enabled plugin missing=()
    if is_root; then
        # is_enabled asks the running node and takes a third of the time of `list` (about 1 s
        # against 3 s): the quick answer for every run after the first; `list` names what is missing.
        rabbitmq-plugins -q is_enabled "${RABBITMQ_PLUGINS[@]}" >/dev/null 2>&1 && return 0
        enabled=$(rabbitmq-plugins -q list -e -m) ||
            die "rabbitmq-plugins list failed; is the node healthy? (rabbitmq-diagnostics status)"
    else
        # Only root or rabbitmq may read the node's Erlang cookie, and asking without it takes
        # half a minute to fail. The plugins file is what `rabbitmq-plugins enable` writes.
        enabled=$(tr -s '[], .\n' '\n' <"${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins}" 2>/dev/null) ||
            enabled=""
    fi
    for plugin in "${RABBITMQ_PLUGINS[@]}"; do
        grep -qx "$plugin" <<<"$enabled" || missing+=("$plugin")
    done
    ((${#missing[@]} == 0)) && return 0
    need_root "RabbitMQ plugins not enabled: ${missing[*]}" "rabbitmq-plugins enable ${missing[*]}" || return 0
    say "enabling RabbitMQ plugins ${missing[*]}"
    rabbitmq-plugins -q enable "${missing[@]}" >/dev/null
}

# --- Certificates: fonts and PDF tools --------------------------------------------------------

# Certificates print Chinese names with rare characters (𬌗, 䶮): only Noto CJK and LXGW WenKai
# cover them (STACK.md "Fonts"). The PDF tests turn pages into images and read them back
# (poppler-utils: pdftoppm, pdffonts, pdftotext; zbar-tools: zbarimg; qpdf checks the file).
CERTIFICATE_PACKAGES=(fonts-noto-cjk poppler-utils zbar-tools qpdf)

ensure_certificate_tools() {
    local missing=() package
    for package in "${CERTIFICATE_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return 0
    need_root "not installed: ${missing[*]}" "apt-get install -y ${missing[*]}" || return 0
    apt_install "${missing[@]}"
}

# --- The web console: its two npm packages, and a browser for its tests -----------------------

# Chromium (Debian's: Playwright never downloads one) and ffmpeg (turns a face photo into the
# fake camera's video) for the browser tests; Node.js and npm install htmx and ECharts from the
# lock file (WEB.md). --no-install-recommends: Chromium recommends a desktop's worth of packages.
WEB_PACKAGES=(chromium ffmpeg nodejs npm)
CONSOLE_DIR="$REPO_ROOT/services/console"

ensure_web_tools() {
    local missing=() package
    for package in "${WEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    # A Node.js from elsewhere (nvm, NodeSource) is as good as Debian's.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        local filtered=()
        for package in "${missing[@]}"; do
            [[ $package == nodejs || $package == npm ]] || filtered+=("$package")
        done
        missing=("${filtered[@]}")
    fi
    if ((${#missing[@]} > 0)); then
        need_root "not installed: ${missing[*]}" "apt-get install -y --no-install-recommends ${missing[*]}" || return 0
        apt_install --no-install-recommends "${missing[@]}"
    fi
    local stamp="$CONSOLE_DIR/node_modules/.package-lock.sha256" wanted
    wanted=$(sha256sum "$CONSOLE_DIR/package-lock.json" | cut -d ' ' -f 1)
    if [[ ! -f $stamp || $(<"$stamp") != "$wanted" ]]; then
        say "installing the console's npm packages (npm ci)"
        (cd "$CONSOLE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        printf '%s\n' "$wanted" >"$stamp"
    fi
}

# --- Python ----------------------------------------------------------------------------------

is_python311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }

python311() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && is_python311 "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

requirements_hash() { cat "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-dev.txt" | sha256sum | cut -d ' ' -f 1; }

ensure_venv() {
    # Only a venv that is not there at all is created: one that exists but does not run is
    # reported below, never written over.
    if [[ ! -e $VENV/bin/python && ! -L $VENV/bin/python ]]; then
        local python
        if ! python=$(python311); then
            need_root "Python 3.11 is not installed" "apt-get install -y python3 python3-venv" || return 0
            apt_install python3 python3-venv
            python=$(python311) || die "python3 is not Python 3.11; install Python 3.11 and run this again"
        fi
        # Debian moves ensurepip into python3-venv; without it `python3 -m venv` fails halfway.
        if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
            need_root "python3-venv is not installed" "apt-get install -y python3-venv" || return 0
            apt_install python3-venv
        fi
        say "creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    is_python311 "$VENV/bin/python" ||
        die "$VENV/bin/python does not run Python 3.11 here; if the venv is stale, remove it (rm -rf $VENV) and run this again"
    local wanted
    wanted=$(requirements_hash)
    if [[ ! -f $REQUIREMENTS_STAMP || $(<"$REQUIREMENTS_STAMP") != "$wanted" ]]; then
        say "installing requirements-dev.txt into $VENV"
        "$VENV/bin/python" -m pip install -q -r "$REPO_ROOT/requirements-dev.txt"
        printf '%s\n' "$wanted" >"$REQUIREMENTS_STAMP"
    fi
}

main() {
    ensure_postgresql
    ensure_redis
    ensure_rabbitmq
    ensure_certificate_tools
    ensure_web_tools
    ensure_venv
    if ((${#NEEDS_ROOT[@]} > 0)); then
        say "not in place, and only root can fix it: run sudo $0, or as root:"
        local i
        for ((i = 0; i < ${#NEEDS_ROOT[@]}; i += 2)); do
            printf '  - %s\n      %s\n' "${NEEDS_ROOT[i]}" "${NEEDS_ROOT[i + 1]}" >&2
        done
        exit 1
    fi
}

main "$@"
