package singlesession_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// Outside the middleware, or with a nil context, the hooks fail clearly and
// UserID is anonymous.
func TestOutsideMiddleware(t *testing.T) {
	m, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{})
	require.NoError(t, err)

	assert.ErrorIs(t, m.LoginHook(context.Background(), "alice"), singlesession.ErrNoMiddleware)
	assert.ErrorIs(t, m.LogoutHook(context.Background()), singlesession.ErrNoMiddleware)
	assert.Equal(t, "", m.UserID(context.Background()))
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.Equal(t, "", m.UserID(nil)) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LoginHook(nil, "alice"), singlesession.ErrNoMiddleware) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LogoutHook(nil), singlesession.ErrNoMiddleware) //nolint:staticcheck
}

// Rule 13: store errors reach Config.ErrorFunc; without one, the reply is 500.
func TestStoreErrorsReachErrorFunc(t *testing.T) {
	broken := &failingStore{Store: singlesession.NewMemoryStore()}
	a := newApp(t, broken)
	b := a.Browser("b")
	b.MustLogin("alice")

	broken.fail.Store(true)
	res, body := b.Do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Contains(t, body, "store error")
	assert.EqualValues(t, 1, a.Errors.Load())

	// The default ErrorFunc: 500.
	s := scs.New()
	m, err := singlesession.New(s, broken, singlesession.Config{})
	require.NoError(t, err)
	srv := newServer(t, m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Put(r.Context(), "k", "v")
	})))
	res, err = http.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
}
