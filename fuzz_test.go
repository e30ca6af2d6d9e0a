package singlesession_test

// Fuzz targets for the inputs that come from outside: the Cookie header a
// browser sends, and the user IDs an application hands to LoginHook and
// LogoutUsers. They use the MemoryStore, so they are fast; their seed corpora
// run as ordinary tests, and TestUserIDSeedsPostgres runs the user ID seeds
// on PostgreSQL too. Fuzz with, for example:
//
//	go test -run '^$' -fuzz '^FuzzCookie$' -fuzztime 1m .

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
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

// userIDSeeds are user IDs from the edges of what is accepted.
var userIDSeeds = []string{
	"", "alice", "bob", "Alice", " alice", "alice\n", "al\x00ice", "\x00", "al\xffice", "\xff", "\xed\xa0\x80",
	"é", "ß", "ﬃ", "👩‍💻", "\u200b", "\ufeffalice", "'; DROP TABLE sessions; --", `"`, `\`, "%", "_", "*",
	"a b", "a\tb", "user@example.com", "42", "-1", "NULL", strings.Repeat("x", singlesession.MaxUserIDLen),
	strings.Repeat("x", singlesession.MaxUserIDLen+1), strings.Repeat("é", singlesession.MaxUserIDLen/2),
	strings.Repeat("é", singlesession.MaxUserIDLen/2) + "x", strings.Repeat("x", singlesession.MaxUserIDLen-1) + "é",
}

// acceptable is the documented rule for user IDs, written out again: not
// empty, at most MaxUserIDLen bytes, valid UTF-8, no NUL byte.
func acceptable(id string) bool {
	return id != "" && len(id) <= singlesession.MaxUserIDLen && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
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

// TestUserIDSeedsPostgres runs FuzzUserID's seeds on PostgreSQL: text and
// hashtext take every acceptable ID as it is.
func TestUserIDSeedsPostgres(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	e := &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	for i, id := range userIDSeeds {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkUserID(t, e, fmt.Sprint("bystander-", i), id)
		})
	}
}

// checkUserID signs id in and out on e, beside another user who is signed
// in, and checks the outcome against acceptable.
func checkUserID(t *testing.T, e *env, other, id string) {
	t.Helper()
	ctx := context.Background()
	sessions := scs.New()
	m, err := singlesession.New(sessions, e.Store, singlesession.Config{})
	require.NoError(t, err)
	var loginErr error
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := id
		if r.URL.Query().Has("other") {
			user = other
		}
		if loginErr = m.LoginHook(r.Context(), user); loginErr != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, m.UserID(r.Context()))
	})
	h := m.Middleware(mux)
	serve := func(method, path string, cookies []*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	whoami := func(cookies []*http.Cookie) string {
		rec := serve("GET", "/whoami", cookies)
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Body.String()
	}

	rec := serve("POST", "/login?other", nil)
	require.Equal(t, http.StatusNoContent, rec.Code, "%v", loginErr)
	otherCookies := rec.Result().Cookies()
	beforeSessions, beforeLinks := rows(t, e)

	rec = serve("POST", "/login", nil)
	cookies := rec.Result().Cookies()
	if !acceptable(id) {
		assert.ErrorIs(t, loginErr, singlesession.ErrInvalidUserID, "LoginHook(%q)", id)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Empty(t, cookies, "a refused login sets no cookie")
		_, err := m.LogoutUsers(ctx, []string{other, id})
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID, "LogoutUsers(%q)", id)
		n, err := m.LogoutUser(ctx, id)
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID, "LogoutUser(%q)", id)
		assert.Zero(t, n)
		afterSessions, afterLinks := rows(t, e)
		assert.Equal(t, beforeSessions, afterSessions, "no session added or ended")
		assert.Equal(t, beforeLinks, afterLinks)
		assert.Equal(t, other, whoami(otherCookies), "the other user is still signed in")
		return
	}

	require.NoError(t, loginErr, "LoginHook(%q)", id)
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.NotEmpty(t, cookies)
	got := whoami(cookies)
	if got != id {
		t.Fatalf("UserID after LoginHook(%q) = %q", id, got)
	}
	list, err := e.Store.Sessions(ctx, singlesession.SessionsQuery{UserID: id, Limit: 10})
	require.NoError(t, err)
	assert.Len(t, list.Sessions, 1, "Sessions(%q)", id)
	if id == other {
		assert.Equal(t, "", whoami(otherCookies), "the same user's other session ended")
	} else {
		assert.Equal(t, other, whoami(otherCookies), "another user is untouched")
	}
	counts, err := m.LogoutUsers(ctx, []string{id})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{id: 1}, counts, "LogoutUsers(%q)", id)
	assert.Equal(t, "", whoami(cookies), "signed out")
	if id != other {
		assert.Equal(t, other, whoami(otherCookies))
		_, err := m.LogoutUser(ctx, other)
		require.NoError(t, err)
	}
}
