package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// openRedis connects to the Redis at rawURL (redis://host:port/db) and
// returns a store over it and the func that closes the client. Redis
// expires sessions itself: no cleanup runs.
func openRedis(ctx context.Context, rawURL string) (singlesession.Store, func(), error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: []string{opts.Addr}, DB: opts.DB, Username: opts.Username, Password: opts.Password, TLSConfig: opts.TLSConfig,
	})
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	return redisstore.New(client), func() { client.Close() }, nil
}
