package singlesession_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// A login whose save fails leaves no half state: the browser keeps its
// previous session and data, the user's other sessions do not end, and the
// error goes to ErrorFunc.
func TestFailedLoginChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		broken := &failingLoginStore{Store: e.store}
		a := newApp(t, broken)
		elsewhere, here := a.browser("elsewhere"), a.browser("here")
		elsewhere.mustLogin("alice")
		here.put("cart", "limes")
		cookie := here.cookie()

		broken.fail.Store(true)
		res := here.login("alice")
		assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
		assert.EqualValues(t, 1, a.errors.Load())
		broken.fail.Store(false)

		assert.Equal(t, cookie, here.cookie(), "no new cookie")
		assert.True(t, here.exists(), "the previous token was not ended")
		assert.Equal(t, "limes", here.get("cart"))
		assert.Equal(t, "", here.whoami())
		assert.Equal(t, "alice", elsewhere.whoami())
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))
	})
}

type failingLoginStore struct {
	singlesession.Store
	fail atomic.Bool
}

func (f *failingLoginStore) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if f.fail.Load() {
		return singlesession.LoginResult{}, errBroken
	}
	return f.Store.Login(ctx, l)
}

// In PostgreSQL, a login that fails midway (here: after the old sessions were
// deleted, at the link insert) is rolled back whole.
func TestLoginTransactionRollsBack(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	e := &env{name: "postgres", store: singlesession.NewPostgresStore(pool), pool: pool}
	a := newApp(t, e.store)
	elsewhere, here := a.browser("elsewhere"), a.browser("here")
	elsewhere.mustLogin("alice")
	here.put("cart", "limes")
	cookie := here.cookie()

	_, err := pool.Exec(context.Background(), `
CREATE FUNCTION refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'link refused'; END $$;
CREATE TRIGGER refuse_link BEFORE INSERT ON singlesession_links FOR EACH ROW EXECUTE FUNCTION refuse_link();`)
	require.NoError(t, err)

	res := here.login("alice")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)

	_, err = pool.Exec(context.Background(), `DROP TRIGGER refuse_link ON singlesession_links`)
	require.NoError(t, err)
	assert.Equal(t, cookie, here.cookie())
	assert.True(t, here.exists(), "the old token's delete was rolled back")
	assert.Equal(t, "limes", here.get("cart"))
	assert.Equal(t, "alice", elsewhere.whoami(), "the other session's delete was rolled back")
	assert.Equal(t, 1, e.sessionsOf(t, "alice"))
}
