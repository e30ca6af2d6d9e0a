package singlesession_test

// Fuzz targets for the inputs that come from outside: the Cookie header a
// browser sends, and the user IDs an application hands to LoginHook and
// LogoutUsers. They use the MemoryStore, so they are fast; their seed corpora
// run as ordinary tests, and pgxstore's TestUserIDSeedsPostgres runs the user
// ID seeds on PostgreSQL too. Fuzz with, for example:
//
//	go test -run '^$' -fuzz '^FuzzCookie$' -fuzztime 1m .

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// realCookie is the cookie of alice's session in FuzzCookie: shaped as scs
// makes them (43 base64url characters).
const realCookie = "aLiCe0session0token0of0forty0three0chars000"

// FuzzCookie sends any Cookie header through Manager.Middleware, on a read
// and on a write: never a panic, never a 5xx, signed in as alice exactly when
// the header's session cookie, as net/http reads it, is alice's token, and a
// write never reaches alice's session through any other cookie.
func FuzzCookie(f *testing.F) {
	for _, seed := range []string{
		"", "session=", "session=" + realCookie, "session=\"" + realCookie + "\"",
		"session=" + realCookie + "x", "session=" + realCookie[:42], "session=" + strings.ToUpper(realCookie),
		"other=" + realCookie, "session=x; session=" + realCookie, "session=" + realCookie + "; session=x",
		"session=garbage", "session=" + strings.Repeat("A", 43), "session=" + strings.Repeat("z", 4000),
		"session=%00%ff", "session=a.b.Client", "session=\x00", "session=\xff\xfe", "session=é", "session=;;;",
		"session=" + realCookie + "\r\nX: y", "session=" + hashOf(realCookie), "=; =", "session=\"", "session=" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, header string, hashed bool) {
		sessions := scs.New()
		sessions.HashTokenInStore = hashed
		store := singlesession.NewMemoryStore()
		storeToken := realCookie
		if hashed {
			storeToken = hashOf(realCookie)
		}
		data, err := sessions.Codec.Encode(time.Now().Add(time.Hour), map[string]any{"cart": "figs"})
		require.NoError(t, err)
		_, err = store.Login(context.Background(), singlesession.Login{UserID: "alice", Token: storeToken, Data: data, Expiry: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		m, err := singlesession.New(sessions, store, singlesession.Config{})
		require.NoError(t, err)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, m.UserID(r.Context()))
		})
		mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
			sessions.Put(r.Context(), "cart", "forged")
			io.WriteString(w, m.UserID(r.Context()))
		})
		h := m.Middleware(mux)

		// What net/http, and so scs, reads from the header.
		probe := httptest.NewRequest("GET", "/", nil)
		probe.Header.Set("Cookie", header)
		c, err := probe.Cookie(sessions.Cookie.Name)
		real := err == nil && c.Value == realCookie
		want := ""
		if real {
			want = "alice"
		}

		for _, target := range []string{"GET /whoami", "POST /put"} {
			method, path, _ := strings.Cut(target, " ")
			req := httptest.NewRequest(method, path, nil)
			req.Header.Set("Cookie", header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s with Cookie %q: status %d, body %q", target, header, rec.Code, rec.Body.String())
			}
			if got := rec.Body.String(); got != want {
				t.Fatalf("%s with Cookie %q: signed in as %q, want %q", target, header, got, want)
			}
		}
		f, err := store.Find(context.Background(), storeToken, time.Minute)
		stored, userID, found := f.Data, f.UserID, f.Found
		require.NoError(t, err)
		require.True(t, found, "alice's session still exists")
		require.Equal(t, "alice", userID)
		_, values, err := sessions.Codec.Decode(stored)
		require.NoError(t, err)
		wantCart := "figs"
		if real {
			wantCart = "forged"
		}
		if values["cart"] != wantCart {
			t.Fatalf("Cookie %q: alice's cart is %q, want %q", header, values["cart"], wantCart)
		}
		sessionsRows, links := store.Rows()
		if links != 1 || sessionsRows > 2 {
			t.Fatalf("Cookie %q: %d sessions and %d links, want at most 2 and 1", header, sessionsRows, links)
		}
	})
}

// hashOf is what scs's HashTokenInStore makes of a cookie value.
func hashOf(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// FuzzUserID signs any user ID in with LoginHook and out with LogoutUsers.
// An acceptable ID round-trips exactly (UserID returns it byte for byte, its
// session is found and ended under it); any other is refused with
// ErrInvalidUserID by LoginHook, LogoutUser and LogoutUsers (even beside a
// good ID), and changes nothing.
func FuzzUserID(f *testing.F) {
	for _, id := range userIDSeeds {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		checkUserID(t, &env{Name: "memory", Store: singlesession.NewMemoryStore()}, "bystander", id)
	})
}
