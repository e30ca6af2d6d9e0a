package redisstore_test

import (
	"log"
	"net/http"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// A Manager whose sessions live in Redis. NewUniversalClient returns a
// cluster client when given several addresses, and the store then keeps
// every script within one hash slot.
func Example() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	m, err := singlesession.New(scs.New(), redisstore.New(client), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	_ = m.Middleware(mux)
}
