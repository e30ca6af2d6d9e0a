#!/usr/bin/env bash
# A throwaway Redis Cluster of three masters on loopback, for the tests of
# redisstore:
#
#   ./scripts/redis-cluster.sh start   # prints REDIS_CLUSTER_ADDRS=...
#   ./scripts/redis-cluster.sh stop
#
# REDIS_CLUSTER_PORTS (default "7001 7002 7003") chooses the ports, and
# REDIS_CLUSTER_DIR (default /tmp/singlesession-redis-cluster) where the
# nodes keep their files; stop kills the nodes and removes that directory.
set -euo pipefail

ports=(${REDIS_CLUSTER_PORTS:-7001 7002 7003})
dir=${REDIS_CLUSTER_DIR:-/tmp/singlesession-redis-cluster}

addrs() {
	local IFS=,
	local a=()
	for p in "${ports[@]}"; do a+=("127.0.0.1:$p"); done
	echo "${a[*]}"
}

# ready tells whether every node sees the whole cluster, all slots served.
ready() {
	local p info
	for p in "${ports[@]}"; do
		info=$(redis-cli -p "$p" cluster info 2>/dev/null) || return 1
		grep -q 'cluster_state:ok' <<<"$info" || return 1
		grep -q "cluster_known_nodes:${#ports[@]}" <<<"$info" || return 1
		grep -q 'cluster_slots_ok:16384' <<<"$info" || return 1
	done
}

start() {
	mkdir -p "$dir"
	for p in "${ports[@]}"; do
		if redis-cli -p "$p" ping >/dev/null 2>&1; then
			continue
		fi
		# A node this script starts begins empty: a nodes.conf left by a
		# node that was killed (a session's end, say) remembers a cluster
		# whose other nodes are gone, and "cluster create" refuses it.
		rm -rf "${dir:?}/$p"
		mkdir -p "$dir/$p"
		redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
			--cluster-config-file "$dir/$p/nodes.conf" --save '' --appendonly no \
			--daemonize yes --dir "$dir/$p" --pidfile "$dir/$p/redis.pid" \
			--logfile "$dir/$p/redis.log"
	done
	for p in "${ports[@]}"; do
		for _ in $(seq 50); do
			redis-cli -p "$p" ping >/dev/null 2>&1 && break
			sleep 0.1
		done
	done
	# A cluster that another run is making becomes whole within seconds; one
	# that stays broken (a node restarted empty, another still remembering
	# it) is made again from empty nodes, if they are this script's: a node
	# it did not start (no pid file in $dir) is never emptied.
	local _
	for _ in $(seq 30); do
		ready && break
		sleep 0.1
	done
	if ! ready; then
		local nodes=()
		for p in "${ports[@]}"; do
			if [ ! -f "$dir/$p/redis.pid" ]; then
				echo "the cluster on ports ${ports[*]} is not whole, and the node on port $p is not this script's: not touching it" >&2
				return 1
			fi
		done
		for p in "${ports[@]}"; do
			nodes+=("127.0.0.1:$p")
			# Nodes that half-know an old cluster are made empty first.
			redis-cli -p "$p" flushall >/dev/null
			redis-cli -p "$p" cluster reset hard >/dev/null
		done
		if ! out=$(redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes 2>&1); then
			echo "$out" >&2
			echo "redis-cli --cluster create failed" >&2
			return 1
		fi
	fi
	for _ in $(seq 100); do
		if ready; then
			echo "REDIS_CLUSTER_ADDRS=$(addrs)"
			return 0
		fi
		sleep 0.1
	done
	echo "the cluster did not become ready" >&2
	return 1
}

stop() {
	for p in "${ports[@]}"; do
		if [ -f "$dir/$p/redis.pid" ]; then
			kill "$(cat "$dir/$p/redis.pid")" 2>/dev/null || true
		fi
	done
	for p in "${ports[@]}"; do
		for _ in $(seq 50); do
			redis-cli -p "$p" ping >/dev/null 2>&1 || break
			sleep 0.1
		done
	done
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
