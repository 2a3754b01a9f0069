#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL: initdb into a temporary directory, pg_ctl on a
# free loopback port, and WSCHAT_TEST_POSTGRES set to a superuser URL for the tests to create
# their own databases with. The cluster is stopped (-m immediate) and removed afterwards.
#
#   Tests/with-postgres.sh swift test --filter Postgres
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" ]]; then
    echo "with-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 2
fi

datadir=$(mktemp -d /tmp/wschat-postgres.XXXXXX)
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    chown postgres "$datadir"
    as_owner=(runuser -u postgres --)
fi

cleanup() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$datadir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_owner[@]}" "$bindir/initdb" -D "$datadir/data" -A trust -U wschat --no-sync >"$datadir/initdb.log" 2>&1 || {
    cat "$datadir/initdb.log" >&2
    exit 2
}
# fsync off: the tests kill wschat-server, never PostgreSQL, and run faster without it.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/postgres.log" -w -o \
    "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" start >/dev/null || {
    cat "$datadir/postgres.log" >&2
    exit 2
}

export WSCHAT_TEST_POSTGRES="postgres://wschat@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port" >&2
"$@"
