package compat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	scspgxstore "github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// An application that kept its sessions with scs's postgresstore (or pgxstore)
// switches to PostgresStore: Migrate keeps the table and its rows, and every
// session reads back through the library with its data. Such a session is
// untracked (UserID is "") until the application adopts it with LoginHook.
func TestSwitchFromScsStores(t *testing.T) {
	for _, legacy := range []string{"postgresstore", "pgxstore"} {
		t.Run(legacy, func(t *testing.T) {
			t.Parallel()
			schema := testSchema(t)
			pool := pgtest.Pool(t, schema, nil)
			// The table as scs's README creates it, before singlesession exists.
			_, err := pool.Exec(context.Background(), `
CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`)
			require.NoError(t, err)

			old := scs.New()
			switch legacy {
			case "postgresstore":
				cfg, err := pgx.ParseConfig(pgtest.DatabaseURL())
				require.NoError(t, err)
				cfg.RuntimeParams["search_path"] = schema
				db := stdlib.OpenDB(*cfg)
				t.Cleanup(func() { db.Close() })
				old.Store = postgresstore.NewWithCleanupInterval(db, 0)
			case "pgxstore":
				old.Store = scspgxstore.NewWithCleanupInterval(pool, 0)
			}
			oldSrv := newServer(t, old.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				old.Put(r.Context(), "userID", r.FormValue("user"))
				old.Put(r.Context(), "cart", "olives")
			})))
			cookies := map[string]*http.Cookie{}
			for _, user := range []string{"alice", "bob"} {
				res, err := http.Get(oldSrv.URL + "?user=" + user)
				require.NoError(t, err)
				res.Body.Close()
				require.Len(t, res.Cookies(), 1)
				cookies[user] = res.Cookies()[0]
			}

			require.NoError(t, pgxstore.Migrate(context.Background(), pool))
			var n int
			require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n))
			assert.Equal(t, 2, n, "Migrate kept the existing rows")

			// The new application, with the adoption middleware from the README.
			sessions := scs.New()
			m, err := singlesession.New(sessions, pgxstore.New(pool), singlesession.Config{})
			require.NoError(t, err)
			adopt := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if m.UserID(r.Context()) == "" {
						if id := sessions.GetString(r.Context(), "userID"); id != "" {
							if err := m.LoginHook(r.Context(), id); err != nil {
								http.Error(w, err.Error(), http.StatusInternalServerError)
								return
							}
						}
					}
					next.ServeHTTP(w, r)
				})
			}
			show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s|%s|%s", m.UserID(r.Context()), sessions.GetString(r.Context(), "userID"), sessions.GetString(r.Context(), "cart"))
			})
			plain := newServer(t, m.Middleware(show))
			adopting := newServer(t, m.Middleware(adopt(show)))

			get := func(url string, c *http.Cookie) (string, []*http.Cookie) {
				req, _ := http.NewRequest("GET", url, nil)
				req.AddCookie(c)
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				require.Equal(t, http.StatusOK, res.StatusCode, string(b))
				return string(b), res.Cookies()
			}
			body, _ := get(plain.URL, cookies["bob"])
			assert.Equal(t, "|bob|olives", body, "the old session reads back, untracked")

			body, set := get(adopting.URL, cookies["alice"])
			assert.Equal(t, "alice|alice|olives", body, "adopted: signed in, data kept")
			require.Len(t, set, 1, "adoption renews the token")
			body, _ = get(plain.URL, set[0])
			assert.Equal(t, "alice|alice|olives", body)

			body, _ = get(plain.URL, cookies["bob"])
			assert.Equal(t, "|bob|olives", body, "alice's login left bob's untracked session alone")
		})
	}
}
