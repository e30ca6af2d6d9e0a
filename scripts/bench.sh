#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, with the one command
#
#   ./scripts/bench.sh
#
# It runs, in compat/ (a module of its own: plain scs needs its stores):
# BenchmarkRequest and BenchmarkRequestMemory (plain scs against
# singlesession, on PostgreSQL and in memory), BenchmarkRequestRedis (scs's
# goredisstore against redisstore, on Redis and on a Redis Cluster),
# BenchmarkRequestPaired (all of these, interleaved request by request),
# BenchmarkLogin and BenchmarkLogoutUsers; then pgxstore's
# BenchmarkLoginEnding1000 and every store's BenchmarkEndingDelay (how soon a
# watch learns that its session ended). PostgreSQL is DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable, as the tests),
# Redis REDIS_URL (default redis://127.0.0.1:6379/0), the Cluster
# REDIS_CLUSTER_ADDRS (default: one started by scripts/redis-cluster.sh and
# stopped at the end). It writes the raw results to bench.txt and prints
# benchstat's summaries. It takes about 25 minutes, a tenth of it loading the
# million-row tables.
#
#   BENCH_COUNT=10     runs of each benchmark (benchstat wants at least 6)
#   BENCH_ROWS=1000000 size of the preloaded tables; 0 skips those variants
#   BENCH_OUT=bench.txt
#
# The request benchmarks run as BENCH_COUNT separate processes of one run
# each (the same as go test -run '^$' -bench '^BenchmarkRequest' -count 1, ten
# times), so that plain scs and singlesession alternate second by second and
# a change in the machine's load hits both sides alike (-count 10 would run
# all ten of one side before the other), and every other run puts
# singlesession first (-bench.swap), so that neither side always goes first.
# Besides benchstat's medians, the script prints the median of the ten paired
# ratios (run i of singlesession over run i of scs), which that alternation
# makes meaningful. The other benchmarks compare sizes, not implementations,
# and run with -count in one process, which loads the big tables once.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
count=${BENCH_COUNT:-10}
rows=${BENCH_ROWS:-1000000}
out=${BENCH_OUT:-bench.txt}
benchstat() { go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"; }

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
if [ -z "${REDIS_CLUSTER_ADDRS:-}" ]; then
	if ! redis-cli -p "$(cut -d" " -f1 <<<"${REDIS_CLUSTER_PORTS:-7001}")" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
		cleanup() { rm -rf "$tmp"; ./scripts/redis-cluster.sh stop; }
	fi
	cluster_env=$(./scripts/redis-cluster.sh start | tail -1)
	export "${cluster_env:?scripts/redis-cluster.sh start printed nothing}"
fi
go -C compat test -c -o "$tmp/bench.test" .
benchstat -h >/dev/null 2>&1 || { echo "benchstat does not resolve: go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da" >&2; exit 1; }

{
	echo "# $(date -u +%FT%TZ) $(nproc) CPUs: $(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)"
	echo "# $(psql "$DATABASE_URL" -qtAc 'SELECT version()' 2>/dev/null || echo 'PostgreSQL version unknown (no psql)')"
	echo "# Redis $(redis-cli -u "$REDIS_URL" info server 2>/dev/null | sed -n 's/^redis_version://p' | tr -d '\r')"
	echo "# $(go version)"
} >"$out"
for i in $(seq "$count"); do
	echo "==> BenchmarkRequest, BenchmarkRequestMemory, BenchmarkRequestRedis, BenchmarkRequestPaired, run $i of $count" >&2
	"$tmp/bench.test" -test.run '^$' -test.bench '^BenchmarkRequest(Memory|Redis|Paired)?$' -test.count 1 -test.benchmem \
		-bench.swap="$([ $((i % 2)) = 0 ] && echo true || echo false)" | tee -a "$out"
done
echo "==> BenchmarkLogin, BenchmarkLogoutUsers (-count $count, tables of $rows rows)" >&2
"$tmp/bench.test" -test.run '^$' -test.bench '^(BenchmarkLogin|BenchmarkLogoutUsers)$' -test.count "$count" \
	-test.timeout 3h -bench.rows "$rows" | tee -a "$out"
echo "==> pgxstore BenchmarkLoginEnding1000, BenchmarkEndingDelay of every store (-count $count)" >&2
go test -run '^$' -bench '^(BenchmarkLoginEnding1000|BenchmarkEndingDelay)$' -count "$count" ./pgxstore | tee -a "$out"
go test -run '^$' -bench '^BenchmarkMemoryStoreEndingDelay$' -count "$count" . | tee -a "$out"
go -C redisstore test -run '^$' -bench '^BenchmarkEndingDelay$' -count "$count" . | tee -a "$out"

# pairs prints, for each request case, the median and range of the ratios
# singlesession/scs of the runs taken side by side.
pairs() {
	awk -v bench="$1" '
	index($1, "Benchmark" bench "/") == 1 && $1 ~ "/impl=" && $4 == "ns/op" {
		name = $1; sub(/-[0-9]+$/, "", name)
		c = substr(name, length("Benchmark" bench "/") + 1); sub(/\/impl=.*/, "", c)
		impl = name; sub(/.*\/impl=/, "", impl)
		n = ++count[c, impl]; v[c, impl, n] = $3; cases[c] = 1
	}
	END {
		for (c in cases) {
			m = count[c, "scs"] < count[c, "singlesession"] ? count[c, "scs"] : count[c, "singlesession"]
			for (i = 1; i <= m; i++) r[i] = v[c, "singlesession", i] / v[c, "scs", i]
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = m % 2 ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2
			printf "%s/%-24s median %.3f  (min %.3f, max %.3f, %d pairs)\n", bench, c, med, r[1], r[m], m
		}
	}' "$out" | sort
}

echo
echo "## Requests: plain scs against singlesession, on PostgreSQL"
benchstat -filter '.name:Request' -col /impl "$out"
echo
echo "Paired ratios singlesession/scs:"
pairs Request
echo
echo "## Requests: plain scs against singlesession, in memory (no database)"
benchstat -filter '.name:RequestMemory' -col /impl "$out"
echo
echo "Paired ratios singlesession/scs:"
pairs RequestMemory
echo
echo "## Requests: scs's goredisstore against redisstore, on Redis and a Redis Cluster"
benchstat -filter '.name:RequestRedis' -col /impl "$out"
echo
echo "Paired ratios singlesession/scs:"
pairs RequestRedis
echo
echo "## Requests interleaved one by one (BenchmarkRequestPaired): the ratio singlesession/scs"
awk '
	index($1, "BenchmarkRequestPaired/") == 1 {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 2; i <= NF; i++) if ($i == "ratio") { n = ++count[name]; v[name, n] = $(i - 1) }
	}
	END {
		for (k in count) {
			m = count[k]
			for (i = 1; i <= m; i++) r[i] = v[k, i]
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = m % 2 ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2
			printf "%-60s median %.3f  (min %.3f, max %.3f, %d runs)\n", k, med, r[1], r[m], m
		}
	}' "$out" | sort
echo
echo "## Login latency against the user's existing sessions"
benchstat -filter '.name:Login' -col /existing "$out"
echo
echo "## Login latency against the size of the tables"
benchstat -filter '.name:Login' -col /table "$out"
echo
echo "## Bulk sign-out (LogoutUsers)"
benchstat -filter '.name:LogoutUsers' -col /table "$out"
echo
echo "## A login that ends 1,000 sessions (pgxstore), and how soon a watch learns of an ending"
benchstat -filter '.name:(LoginEnding1000 OR EndingDelay OR MemoryStoreEndingDelay)' "$out"
