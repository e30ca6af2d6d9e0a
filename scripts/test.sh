#!/usr/bin/env bash
# The whole test suite, set-up included, as README.md gives it:
#
#   ./scripts/test.sh
#
# On a fresh Debian machine it installs and starts PostgreSQL when the
# database is local, creates the test database, installs Chromium for the
# browser tests of examples/basic, then runs go vet, staticcheck,
# go test -race ./... and every benchmark once in every module of the
# repository: the library (.) and the nested modules that keep their
# dependencies out of its go.mod (compat, examples, internal/release,
# loadtest, otelsinglesession and its test module, redisstore).
# DATABASE_URL overrides the default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable ; for redisstore it
# starts Redis (REDIS_URL, default redis://127.0.0.1:6379/0) when it is local
# and down, and a Redis Cluster unless REDIS_CLUSTER_ADDRS names one.
# Extra arguments go to go test (for example -run TestLogin or -v).
# The nested modules are tested in workspace mode (go.work); see below.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
say() { printf '==> %s\n' "$*"; }

apt_updated=
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		echo "need root to apt-get install $*" >&2
		exit 1
	fi
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL -------------------------------------------------------------
db_host=$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]*).*#\2#' <<<"$DATABASE_URL")
db_port=$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]*:([0-9]+).*#\2#p' <<<"$DATABASE_URL")
db_port=${db_port:-5432}
db_name=$(sed -nE 's#^[a-z]+://[^/]*/([^?]+).*#\1#p' <<<"$DATABASE_URL")
db_name=${db_name:-postgres}

case "$db_host" in
127.0.0.1 | localhost | "" | ::1)
	if ! command -v pg_ctlcluster >/dev/null 2>&1; then
		say "installing PostgreSQL"
		apt_install postgresql
		# A new cluster wants passwords on TCP; the tests, like this machine
		# kind, use trust on loopback. Only done for a cluster installed here.
		for hba in /etc/postgresql/*/main/pg_hba.conf; do
			sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
		done
	fi
	if ! pg_isready -q -h 127.0.0.1 -p "$db_port"; then
		say "starting PostgreSQL"
		for version in $(ls /etc/postgresql); do
			pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
		done
		for _ in $(seq 60); do
			pg_isready -q -h 127.0.0.1 -p "$db_port" && break
			sleep 0.5
		done
	fi
	pg_isready -h 127.0.0.1 -p "$db_port"
	;;
*)
	say "PostgreSQL at $db_host:$db_port is not local: using it as it is"
	;;
esac

if ! command -v psql >/dev/null 2>&1; then
	say "installing the PostgreSQL client"
	apt_install postgresql-client
fi
if ! psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
	say "creating database $db_name"
	maintenance=$(sed -E "s#^([a-z]+://[^/]*/)[^?]*#\1postgres#" <<<"$DATABASE_URL")
	psql "$maintenance" -qc "CREATE DATABASE \"$db_name\""
fi
psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null

# --- Chromium (the end-to-end tests of examples/basic) -----------------------
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ] || [ "${CI:-}" = true ]; then
		say "installing Chromium"
		apt_install chromium
	else
		say "Chromium is missing: the browser tests will be skipped (apt-get install chromium)"
	fi
fi

# --- Redis (redisstore) -----------------------------------------------------
# A single Redis at REDIS_URL (started here when it is local and down) and a
# throwaway three-node Redis Cluster (scripts/redis-cluster.sh), stopped on
# exit, for the tests of the redisstore module.
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! command -v redis-server >/dev/null 2>&1; then
	say "installing Redis"
	apt_install redis-server
fi
redis_host=$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]*).*#\2#' <<<"$REDIS_URL")
redis_port=$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]*:([0-9]+).*#\2#p' <<<"$REDIS_URL")
redis_port=${redis_port:-6379}
case "$redis_host" in
127.0.0.1 | localhost | "")
	if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
		say "starting Redis on port $redis_port"
		redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save ''
		for _ in $(seq 50); do
			redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
			sleep 0.1
		done
	fi
	;;
esac
if [ -z "${REDIS_CLUSTER_ADDRS:-}" ]; then
	# A cluster already running on those ports (another run's) is used and
	# left running; one started here is stopped on exit.
	if ! redis-cli -p "$(cut -d" " -f1 <<<"${REDIS_CLUSTER_PORTS:-7001}")" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
		say "starting a Redis Cluster (scripts/redis-cluster.sh)"
		trap './scripts/redis-cluster.sh stop' EXIT
	fi
	# An assignment, not export "$(...)": a failed start stops the run
	# here, with the script's own message.
	cluster_env=$(./scripts/redis-cluster.sh start | tail -1)
	export "${cluster_env:?scripts/redis-cluster.sh start printed nothing}"
fi

# --- Go ---------------------------------------------------------------------
# The root module on its own go.mod (GOWORK=off), so that it is tested with
# the lowest versions it asks for and a missing requirement shows. The nested
# modules require the root (and redisstore) at v0.1.0, the version they will
# be released with, which no proxy serves before the release: they build in
# workspace mode (go.work joins the checkout's modules); internal/release's
# tests check that they are tidy and that a consumer of the release builds,
# against a local module proxy made from the checkout.
workspace=$PWD/go.work
modules=(. $(find . -mindepth 2 -name go.mod -not -path '*/testdata/*' -not -path './.git/*' -printf '%h\n' | sed 's#^\./##' | sort))
say "modules: ${modules[*]}"
say "gofmt -l ."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	printf 'not gofmt-ed:\n%s\n' "$unformatted" >&2
	exit 1
fi
# The published nested modules (redisstore, otelsinglesession) build in a
# workspace of their own with the root alone, so that they too are tested
# with the lowest versions they ask for (go-redis, OpenTelemetry), not with
# what the examples or the benchmarks pull into go.work.
own_workspaces=$(mktemp -d)
for mod in redisstore otelsinglesession; do
	mkdir -p "$own_workspaces/$mod"
	cat >"$own_workspaces/$mod/go.work" <<EOF
go $(sed -nE 's/^go ([0-9.]+)$/\1/p' "$mod/go.mod")

use (
	$PWD
	$PWD/$mod
)

replace github.com/go-singlesession/singlesession v0.1.0 => $PWD
EOF
done
in_module() { # in_module DIR COMMAND...: run COMMAND in module DIR
	local dir=$1
	shift
	if [ "$dir" = . ]; then
		(GOWORK=off "$@")
	elif [ -f "$own_workspaces/$dir/go.work" ]; then
		(cd "$dir" && GOWORK=$own_workspaces/$dir/go.work "$@")
	else
		(cd "$dir" && GOWORK=$workspace "$@")
	fi
}
say "[.] go mod tidy -diff"
in_module . go mod tidy -diff
for mod in "${modules[@]}"; do
	say "[$mod] go vet ./..."
	in_module "$mod" go vet ./...
	say "[$mod] staticcheck ./..."
	in_module "$mod" go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
done
for mod in "${modules[@]}"; do
	say "[$mod] go test -race ./..."
	in_module "$mod" go test -race -count=1 -timeout 45m "$@" ./...
done
for mod in "${modules[@]}"; do
	say "[$mod] benchmarks, one iteration each (they must keep working; ./scripts/bench.sh measures)"
	in_module "$mod" go test -run '^$' -bench . -benchtime 1x -count=1 ./...
done
rm -rf "$own_workspaces"
