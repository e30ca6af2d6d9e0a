// Command singlesession-load runs a load test of singlesession against
// PostgreSQL and checks its invariants:
//
//	go run ./loadtest/cmd/singlesession-load -dsn postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// It starts the application in-process on a loopback port, in a schema of
// its own that it drops at the end; -clients browsers, each with its own
// cookie jar, sign in as one of -users users, read, write the session and
// sign out at random for -duration. Then it prints the throughput, the p50
// and p99 latency, and each invariant with its outcome: with the policy
// Always no user has more than one live session, no link row lacks its
// session, no session claims a user without a link, and no reply was an
// unexpected 5xx. It exits with status 1 when an invariant fails, 2 when the
// run cannot start. SIGINT stops the load early; the checks still run.
//
// -collide runs the collision scenario instead: a few users (-users, default
// 3) signed in on many browsers under the policy Never, whose sessions
// logouts, re-logins and operators' sign-outs (LogoutUser, LogoutUsers) end
// at the same moments. Every operation must succeed (a deadlock is a
// failure), and no session may outlive a later sign-out of its user.
//
// -baseline compares throughput with plain scs (pgxstore) on the same
// database instead: each side's browsers sign in once, then read and write
// the session for -duration in all, in -rounds rounds that alternate the
// sides; it prints both throughputs and the median of the rounds' ratios
// singlesession ÷ plain scs, and exits with status 1 when a request failed:
//
//	go run ./loadtest/cmd/singlesession-load -baseline -duration 10s
//
// With -redis, the comparison runs on that Redis instead of PostgreSQL
// (which it then does not need: -dsn and $DATABASE_URL are not used):
// singlesession over redisstore against plain scs over scs's goredisstore,
// each under a key prefix of its own (sslt:<random>:ss: and
// sslt:<random>:scs:) whose keys it deletes at the end. -redis-cluster does
// the same on a Redis Cluster, plain scs running goredisstore's commands on a
// cluster client. They apply only to -baseline (the load test and its checks
// run on PostgreSQL), and -redis is never read from $REDIS_URL:
//
//	go run ./loadtest/cmd/singlesession-load -baseline -redis redis://127.0.0.1:6379/0
//	go run ./loadtest/cmd/singlesession-load -baseline -redis-cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
//
// It exits with status 1 too when the comparison's keys could not all be
// deleted (it prints the report first).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/loadtest"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	return runTo(args, os.Stdout, os.Stderr)
}

// runTo is run with its output streams: help goes to stdout, errors to
// stderr.
func runTo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("singlesession-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadtest.Config
	fs.StringVar(&cfg.DSN, "dsn", os.Getenv("DATABASE_URL"), "PostgreSQL connection string (default $DATABASE_URL; not used with -redis or -redis-cluster)")
	fs.StringVar(&cfg.RedisURL, "redis", "", "with -baseline: compare on the Redis at `URL` (redis://host:port/db) instead of PostgreSQL: redisstore against scs's goredisstore")
	cluster := fs.String("redis-cluster", "", "with -baseline: compare on the Redis Cluster at `addrs` (host:port,host:port,...) instead of PostgreSQL: redisstore against goredisstore's commands")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent browsers, each with its own cookie jar")
	fs.IntVar(&cfg.Users, "users", 0, "distinct users the browsers sign in as (0: 50, or 3 with -collide)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long the browsers send requests (with -baseline: each side, over all rounds)")
	fs.IntVar(&cfg.MaxRequests, "requests", 0, "also stop after this many requests (0: no limit)")
	fs.DurationVar(&cfg.RequestTimeout, "timeout", 5*time.Second, "deadline of each request's context")
	maxConns := fs.Int("conns", 16, "size of the application's connection pool (with -baseline, of each side's; on Redis, go-redis's PoolSize)")
	never := fs.Bool("never", false, "use the policy Never instead of Always (the one-session check is then skipped)")
	fs.BoolVar(&cfg.Collide, "collide", false, "run the collision scenario: few users, policy Never, concurrent logouts, logins and operators' sign-outs of the same users")
	baseline := fs.Bool("baseline", false, "compare throughput with plain scs on the same database (pgxstore; with -redis, goredisstore), instead of the load test")
	fs.IntVar(&cfg.Rounds, "rounds", 5, "with -baseline: paired rounds, each running both sides for duration/rounds")
	verbose := fs.Bool("v", false, "log the application's errors to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: singlesession-load [flags]\n\nLoad-tests singlesession on PostgreSQL and checks its invariants; with -baseline,\ncompares its throughput with plain scs's on PostgreSQL, Redis (-redis) or\nRedis Cluster (-redis-cluster).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(stderr, "Run 'singlesession-load help' for usage.")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "singlesession-load: unexpected arguments: %v\nRun 'singlesession-load help' for usage.\n", fs.Args())
		return 2
	}
	if *cluster != "" {
		cfg.RedisClusterAddrs = strings.Split(*cluster, ",")
	}
	onRedis := cfg.RedisURL != "" || *cluster != ""
	dsnGiven := false
	fs.Visit(func(f *flag.Flag) { dsnGiven = dsnGiven || f.Name == "dsn" })
	switch {
	case onRedis && !*baseline:
		fmt.Fprintln(stderr, "singlesession-load: -redis and -redis-cluster apply only to -baseline: the load test runs on PostgreSQL")
		return 2
	case cfg.RedisURL != "" && *cluster != "":
		fmt.Fprintln(stderr, "singlesession-load: -redis and -redis-cluster exclude each other")
		return 2
	case onRedis && dsnGiven:
		fmt.Fprintln(stderr, "singlesession-load: -dsn and -redis or -redis-cluster exclude each other")
		return 2
	case onRedis:
		cfg.DSN = "" // $DATABASE_URL's: not used on Redis
	case cfg.DSN == "":
		fmt.Fprintln(stderr, "singlesession-load: no database: pass -dsn or set DATABASE_URL")
		return 2
	}
	if *baseline && cfg.Collide {
		fmt.Fprintln(stderr, "singlesession-load: -baseline and -collide exclude each other")
		return 2
	}
	cfg.MaxConns = int32(*maxConns)
	if *never {
		cfg.Policy = singlesession.Never
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *baseline {
		cmp, err := loadtest.Compare(ctx, cfg)
		if cmp == nil {
			fmt.Fprintf(stderr, "singlesession-load: %v\n", err)
			return 2
		}
		fmt.Fprint(stdout, cmp)
		if err != nil { // the keys of a comparison on Redis are not all deleted
			fmt.Fprintf(stderr, "singlesession-load: %v\n", err)
			return 1
		}
		if !cmp.OK() {
			return 1
		}
		return 0
	}
	report, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "singlesession-load: %v\n", err)
		return 2
	}
	fmt.Fprint(stdout, report)
	if !report.OK() {
		return 1
	}
	return 0
}
