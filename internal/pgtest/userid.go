package pgtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// UserIDSeeds are user IDs from the edges of what is accepted: the seed
// corpus of the root's FuzzUserID, which pgxstore's tests run on PostgreSQL.
var UserIDSeeds = []string{
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

// CheckUserID signs id in and out on e, beside another user who is signed
// in, and checks the outcome against acceptable: an acceptable ID
// round-trips exactly; any other is refused with ErrInvalidUserID and
// changes nothing. It is the check of the root's FuzzUserID.
func CheckUserID(t *testing.T, e *Env, other, id string) {
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
	beforeSessions, beforeLinks := e.Rows(t)

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
		afterSessions, afterLinks := e.Rows(t)
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
