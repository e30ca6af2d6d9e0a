package singlesession_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// The users of the admin tests, as in the example application: alice and
// bob are ordinary, sam holds logout, tess logout_all, root and ruth are
// admin users.
var adminUsers = []singlesession.User{
	{ID: "alice"},
	{ID: "bob"},
	{ID: "carol"},
	{ID: "sam", Permissions: []string{singlesession.PermLogout}},
	{ID: "tess", Permissions: []string{singlesession.PermLogoutAll}},
	{ID: "root", Admin: true},
	{ID: "ruth", Admin: true},
}

// quietLogger keeps the record of every action out of the test output.
var quietLogger = slog.New(slog.DiscardHandler)

func newManager(t testing.TB, store singlesession.Store, cfg singlesession.Config) *singlesession.Manager {
	t.Helper()
	m, err := singlesession.New(scs.New(), store, cfg)
	require.NoError(t, err)
	return m
}

func newAdmin(t testing.TB, m *singlesession.Manager, dir singlesession.Directory) *singlesession.Admin {
	t.Helper()
	a, err := singlesession.NewAdmin(m, dir, singlesession.AdminConfig{Logger: quietLogger})
	require.NoError(t, err)
	return a
}

// endAll ends every linked session of users, to start a case afresh.
func endAll(t testing.TB, store singlesession.Store, users ...string) {
	t.Helper()
	_, err := store.EndUsers(context.Background(), singlesession.EndUsers{UserIDs: users})
	require.NoError(t, err)
}

// allUserIDs are the IDs of adminUsers.
func allUserIDs() []string { return ids(adminUsers) }

// The permission matrix through the Go API: actors holding nothing, logout,
// logout_all or admin; targets ordinary, admin, or the actor; both actions.
func TestAdminRunPermissionMatrix(t *testing.T) {
	actors := map[string]string{"none": "alice", "logout": "sam", "logout_all": "tess", "admin": "root"}
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdmin(t, newManager(t, e.Store, singlesession.Config{}), singlesession.NewStaticDirectory(adminUsers...))
		for holds, actor := range actors {
			for _, target := range []string{"bob", "ruth", actor} {
				for _, action := range []singlesession.Action{singlesession.ActionLogout, singlesession.ActionLogoutAll} {
					t.Run(fmt.Sprintf("%s/%s/%s", holds, target, action), func(t *testing.T) {
						endAll(t, e.Store, allUserIDs()...)
						seedSessions(t, e.Store, target, 2)
						seedSessions(t, e.Store, "carol", 1) // a bystander

						res, err := a.Run(context.Background(), actor, action, []string{target})

						permitted := holds == "admin" || holds == string(action)
						if !permitted {
							assert.ErrorIs(t, err, singlesession.ErrPermissionDenied)
							assert.ErrorContains(t, err, action.Permission())
							var perr *singlesession.PermissionError
							require.ErrorAs(t, err, &perr)
							assert.Equal(t, singlesession.PermissionError{Actor: actor, Action: action, Needs: action.Permission()}, *perr)
							assert.Nil(t, res)
							assert.Equal(t, 2, e.SessionsOf(t, target), "nothing ends")
							assert.Equal(t, 1, e.SessionsOf(t, "carol"))
							return
						}
						require.NoError(t, err)
						assert.Equal(t, action, res.Action)
						assert.Equal(t, actor, res.Actor)
						targetIsAdmin := target == "ruth" || target == "root"
						if action == singlesession.ActionLogout && targetIsAdmin {
							assert.Equal(t, []singlesession.Skipped{{UserID: target, Reason: singlesession.SkipAdminUser}}, res.Skipped)
							assert.Empty(t, res.SignedOut)
							assert.Zero(t, res.Sessions)
							assert.Equal(t, 2, e.SessionsOf(t, target), "logout skips admin users")
						} else {
							assert.Equal(t, []singlesession.SignedOut{{UserID: target, Sessions: 2}}, res.SignedOut)
							assert.Empty(t, res.Skipped)
							assert.Equal(t, 2, res.Sessions)
							assert.Zero(t, e.SessionsOf(t, target))
						}
						assert.Equal(t, 1, e.SessionsOf(t, "carol"), "a bystander is untouched")
					})
				}
			}
		}
	})
}

// Everything a Result must say: signed-out users with counts (0 included),
// skips with reasons, duplicates once, in the order given.
func TestAdminRunResult(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdmin(t, newManager(t, e.Store, singlesession.Config{}), singlesession.NewStaticDirectory(adminUsers...))
		seedSessions(t, e.Store, "bob", 3)
		seedSessions(t, e.Store, "ruth", 1)
		seedSessions(t, e.Store, "ghost", 2) // signed in, but unknown to the directory

		res, err := a.Run(context.Background(), "sam", singlesession.ActionLogout,
			[]string{"bob", "ghost", "ruth", "alice", "bob", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, &singlesession.Result{
			Action:    singlesession.ActionLogout,
			Actor:     "sam",
			SignedOut: []singlesession.SignedOut{{UserID: "bob", Sessions: 3}, {UserID: "alice", Sessions: 0}},
			Sessions:  3,
			Skipped: []singlesession.Skipped{
				{UserID: "ghost", Reason: singlesession.SkipUnknownUser},
				{UserID: "ruth", Reason: singlesession.SkipAdminUser},
			},
		}, res)
		assert.Equal(t, 2, e.SessionsOf(t, "ghost"), "unknown users are reported, not touched")
		assert.Equal(t, 1, e.SessionsOf(t, "ruth"))
		assert.Zero(t, e.SessionsOf(t, "bob"))

		res, err = a.Run(context.Background(), "tess", singlesession.ActionLogoutAll, []string{"ruth", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, []singlesession.SignedOut{{UserID: "ruth", Sessions: 1}}, res.SignedOut)
		assert.Equal(t, []singlesession.Skipped{{UserID: "ghost", Reason: singlesession.SkipUnknownUser}}, res.Skipped)
	})
}

// Bad calls end nothing and say why.
func TestAdminRunBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdmin(t, newManager(t, e.Store, singlesession.Config{}), singlesession.NewStaticDirectory(adminUsers...))
		seedSessions(t, e.Store, "bob", 2)
		for name, tc := range map[string]struct {
			actor  string
			action singlesession.Action
			users  []string
			is     error
		}{
			"unknown action":     {"root", "delete", []string{"bob"}, singlesession.ErrUnknownAction},
			"empty action":       {"root", "", []string{"bob"}, singlesession.ErrUnknownAction},
			"no users":           {"root", singlesession.ActionLogoutAll, nil, singlesession.ErrNoUsers},
			"empty list":         {"root", singlesession.ActionLogoutAll, []string{}, singlesession.ErrNoUsers},
			"empty ID":           {"root", singlesession.ActionLogoutAll, []string{"bob", ""}, singlesession.ErrInvalidUserID},
			"invalid UTF-8":      {"root", singlesession.ActionLogoutAll, []string{"bob", "b\xffb"}, singlesession.ErrInvalidUserID},
			"too long":           {"root", singlesession.ActionLogoutAll, []string{"bob", strings.Repeat("x", singlesession.MaxUserIDLen+1)}, singlesession.ErrInvalidUserID},
			"NUL":                {"root", singlesession.ActionLogoutAll, []string{"bob", "b\x00"}, singlesession.ErrInvalidUserID},
			"anonymous actor":    {"", singlesession.ActionLogoutAll, []string{"bob"}, singlesession.ErrPermissionDenied},
			"unknown actor":      {"mallory", singlesession.ActionLogoutAll, []string{"bob"}, singlesession.ErrPermissionDenied},
			"invalid actor":      {"r\xff", singlesession.ActionLogoutAll, []string{"bob"}, singlesession.ErrPermissionDenied},
			"actor lacks perm":   {"sam", singlesession.ActionLogoutAll, []string{"bob"}, singlesession.ErrPermissionDenied},
			"actor lacks perm 2": {"tess", singlesession.ActionLogout, []string{"bob"}, singlesession.ErrPermissionDenied},
		} {
			t.Run(name, func(t *testing.T) {
				res, err := a.Run(context.Background(), tc.actor, tc.action, tc.users)
				assert.ErrorIs(t, err, tc.is)
				assert.True(t, strings.HasPrefix(err.Error(), "singlesession: "), err.Error())
				assert.Nil(t, res)
				assert.Equal(t, 2, e.SessionsOf(t, "bob"), "nothing ended")
			})
		}
	})
}

// Actions run no hook and never consult the policy, and leave sessions that
// are linked to no user alone.
func TestAdminRunNoPolicyNoUntracked(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var calls atomic.Int32
		policy := func(context.Context, string) bool { calls.Add(1); return true }
		ap := newApp(t, e.Store, withPolicy(policy))
		a := newAdmin(t, ap.M, singlesession.NewStaticDirectory(adminUsers...))
		bob := ap.Browser("bob")
		bob.MustLogin("bob")
		anon := ap.Browser("anonymous")
		anon.Put("cart", "olives")
		require.EqualValues(t, 1, calls.Load())

		res, err := a.Run(context.Background(), "root", singlesession.ActionLogoutAll, allUserIDs())
		require.NoError(t, err)
		assert.Equal(t, 1, res.Sessions)
		assert.EqualValues(t, 1, calls.Load(), "the policy was not consulted")
		assert.Equal(t, "", bob.WhoAmI(), "bob is signed out")
		assert.Equal(t, "olives", anon.Get("cart"), "the untracked session is untouched")
	})
}

// Admin.Actions lists what an actor may run.
func TestAdminActions(t *testing.T) {
	a := newAdmin(t, newManager(t, singlesession.NewMemoryStore(), singlesession.Config{}), singlesession.NewStaticDirectory(adminUsers...))
	for actor, want := range map[string][]singlesession.Action{
		"alice":   nil,
		"mallory": nil,
		"":        nil,
		"sam":     {singlesession.ActionLogout},
		"tess":    {singlesession.ActionLogoutAll},
		"root":    {singlesession.ActionLogout, singlesession.ActionLogoutAll},
	} {
		t.Run(cmp.Or(actor, "anonymous"), func(t *testing.T) {
			got, err := a.Actions(context.Background(), actor)
			require.NoError(t, err)
			assert.Equal(t, want, got, actor)
		})
	}
	assert.Equal(t, singlesession.PermLogout, singlesession.ActionLogout.Permission())
	assert.Equal(t, singlesession.PermLogoutAll, singlesession.ActionLogoutAll.Permission())
	assert.Empty(t, singlesession.Action("x").Permission())
}

// NewAdmin rejects what cannot work.
func TestNewAdminRejectsBadConfig(t *testing.T) {
	m := newManager(t, singlesession.NewMemoryStore(), singlesession.Config{})
	dir := singlesession.NewStaticDirectory(adminUsers...)
	var nilStatic *singlesession.StaticDirectory
	for name, tc := range map[string]struct {
		m    *singlesession.Manager
		dir  singlesession.Directory
		cfg  singlesession.AdminConfig
		want string
	}{
		"nil manager":      {nil, dir, singlesession.AdminConfig{}, "manager is nil"},
		"nil directory":    {m, nil, singlesession.AdminConfig{}, "directory is nil"},
		"typed nil":        {m, nilStatic, singlesession.AdminConfig{}, "directory is nil"},
		"bad static list":  {m, singlesession.NewStaticDirectory(singlesession.User{ID: ""}), singlesession.AdminConfig{}, "invalid user ID"},
		"zero static":      {m, &singlesession.StaticDirectory{}, singlesession.AdminConfig{}, "NewStaticDirectory"},
		"negative page":    {m, dir, singlesession.AdminConfig{PageSize: -1}, "PageSize -1"},
		"huge page":        {m, dir, singlesession.AdminConfig{PageSize: 1001}, "PageSize 1001"},
		"negative body":    {m, dir, singlesession.AdminConfig{MaxBodyBytes: -1}, "MaxBodyBytes -1"},
		"relative prefix":  {m, dir, singlesession.AdminConfig{Prefix: "admin"}, `Prefix "admin"`},
		"bad login URL":    {m, dir, singlesession.AdminConfig{LoginURL: "http://[::1"}, "LoginURL"},
		"bad trusted orig": {m, dir, singlesession.AdminConfig{TrustedOrigins: []string{"https://ok.example/path"}}, "TrustedOrigins"},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := singlesession.NewAdmin(tc.m, tc.dir, tc.cfg)
			assert.Nil(t, a)
			assert.ErrorContains(t, err, "singlesession: new admin: ")
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// seedManyPostgres links sessions sessions to each of users user-00000,
// user-00001, ... directly in SQL.
func seedManyPostgres(t testing.TB, pool *pgxpool.Pool, users, sessions int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
WITH s AS (
	INSERT INTO sessions (token, data, expiry)
	SELECT format('bulk-%s-%s', u, i), '\x00', now() + interval '1 hour'
	FROM generate_series(0, $1::int - 1) u, generate_series(1, $2::int) i
	RETURNING token
)
INSERT INTO singlesession_links (token, user_id)
SELECT token, format('user-%s', lpad(split_part(token, '-', 2), 5, '0')) FROM s`, users, sessions)
	require.NoError(t, err)
}

func manyIDs(n int) []string {
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf("user-%05d", i)
	}
	return list
}

// Ending the sessions of 10,000 users with 3 sessions each takes the same
// two round trips as ending one user's: one directory lookup, one delete.
func TestAdminRunRoundTrips(t *testing.T) {
	t.Parallel()
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	dir := pgxstore.NewDirectory(pool)
	require.NoError(t, grantErr(dir.Grant(context.Background(), "root", pgxstore.GrantAdmin)))
	a := newAdmin(t, newManager(t, store, singlesession.Config{}), dir)

	// Warm up, so that preparing statements is not counted.
	seedManyPostgres(t, pool, 1, 3)
	_, err := a.Run(context.Background(), "root", singlesession.ActionLogoutAll, manyIDs(1))
	require.NoError(t, err)

	for _, n := range []int{1, 100, 10_000} {
		t.Run(fmt.Sprint(n, " users"), func(t *testing.T) {
			seedManyPostgres(t, pool, n, 3)
			counter.Take()
			start := time.Now()
			res, err := a.Run(context.Background(), "root", singlesession.ActionLogoutAll, manyIDs(n))
			elapsed := time.Since(start)
			q := counter.Take()
			require.NoError(t, err)
			assert.Equal(t, 3*n, res.Sessions)
			assert.Len(t, res.SignedOut, n)
			t.Logf("logout_all of %5d users × 3 sessions: %d round trips, %v", n, len(q), elapsed.Round(time.Millisecond))
			assert.Len(t, q, 2, "one directory lookup, one delete: %v", q)
		})
	}
	var left int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&left))
	assert.Zero(t, left)
}

// BenchmarkAdminLogoutAll10000Users times Admin.Run ending 3 sessions of each
// of 10,000 users; setting the sessions up is not timed. Run it with
//
//	go test -run '^$' -bench AdminLogoutAll -benchtime 10x
func BenchmarkAdminLogoutAll10000Users(b *testing.B) {
	const users, perUser = 10_000, 3
	targets := manyIDs(users)
	b.Run("postgres", func(b *testing.B) {
		counter := &queryCounter{}
		pool := pgtest.Pool(b, testSchema(b), counter)
		require.NoError(b, pgxstore.Migrate(context.Background(), pool))
		dir := pgxstore.NewDirectory(pool)
		require.NoError(b, grantErr(dir.Grant(context.Background(), "root", pgxstore.GrantAdmin)))
		a := newAdmin(b, newManager(b, pgxstore.New(pool), singlesession.Config{}), dir)
		trips := 0
		for b.Loop() {
			b.StopTimer()
			seedManyPostgres(b, pool, users, perUser)
			_, err := pool.Exec(context.Background(), `ANALYZE sessions; ANALYZE singlesession_links`)
			require.NoError(b, err)
			counter.Take()
			b.StartTimer()
			res, err := a.Run(context.Background(), "root", singlesession.ActionLogoutAll, targets)
			b.StopTimer()
			require.NoError(b, err)
			require.Equal(b, users*perUser, res.Sessions)
			trips += len(counter.Take())
			b.StartTimer()
		}
		b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
	})
	b.Run("memory", func(b *testing.B) {
		store := singlesession.NewMemoryStore()
		known := make([]singlesession.User, 0, users+1)
		for _, id := range targets {
			known = append(known, singlesession.User{ID: id})
		}
		known = append(known, singlesession.User{ID: "root", Admin: true})
		a := newAdmin(b, newManager(b, store, singlesession.Config{}), singlesession.NewStaticDirectory(known...))
		for b.Loop() {
			b.StopTimer()
			for _, id := range targets {
				for i := range perUser {
					_, err := store.Login(context.Background(), singlesession.Login{
						UserID: id, Token: fmt.Sprint(id, "-", i), Data: []byte{0}, Expiry: time.Now().Add(time.Hour),
					})
					require.NoError(b, err)
				}
			}
			b.StartTimer()
			res, err := a.Run(context.Background(), "root", singlesession.ActionLogoutAll, targets)
			require.NoError(b, err)
			require.Equal(b, users*perUser, res.Sessions)
		}
	})
}

// The error of a refused action or end of a session is a *PermissionError
// that says who lacked what, with the package's prefix once.
func TestAdminPermissionError(t *testing.T) {
	ctx := context.Background()
	store := singlesession.NewMemoryStore()
	m := newManager(t, store, singlesession.Config{})
	a := newAdmin(t, m, singlesession.NewStaticDirectory(adminUsers...))
	ids := seedDevices(t, store, "ruth", firefoxLinux)
	seedDevices(t, store, "bob", firefoxLinux)
	bob, err := m.UserSessions(ctx, "bob")
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		err  error
		want singlesession.PermissionError
		text string
	}{
		"action without its permission": {
			err:  runErr(a.Run(ctx, "sam", singlesession.ActionLogoutAll, []string{"bob"})),
			want: singlesession.PermissionError{Actor: "sam", Action: singlesession.ActionLogoutAll, Needs: singlesession.PermLogoutAll},
			text: `singlesession: logout_all by "sam", who does not hold single_session.logout_all: permission denied`,
		},
		"action by an unknown actor": {
			err:  runErr(a.Run(ctx, "mallory", singlesession.ActionLogout, []string{"bob"})),
			want: singlesession.PermissionError{Actor: "mallory", Action: singlesession.ActionLogout, Needs: singlesession.PermLogout, UnknownActor: true},
			text: `singlesession: logout by "mallory", a user the directory does not know: permission denied`,
		},
		"an admin user's session, with logout only": {
			err:  a.EndSession(ctx, "sam", "ruth", ids[0]),
			want: singlesession.PermissionError{Actor: "sam", Target: "ruth", Needs: singlesession.PermLogoutAll, TargetAdmin: true},
			text: `singlesession: end session of "ruth" by "sam": "ruth" is an admin user, whose sessions only single_session.logout_all ends: permission denied`,
		},
		"a session, with neither permission": {
			err:  a.EndSession(ctx, "alice", "bob", bob[0].ID),
			want: singlesession.PermissionError{Actor: "alice", Target: "bob", Needs: singlesession.PermLogout},
			text: `singlesession: end session of "bob" by "alice", who holds neither single_session.logout nor single_session.logout_all: permission denied`,
		},
		"a session, by an unknown actor": {
			err:  a.EndSession(ctx, "mallory", "bob", bob[0].ID),
			want: singlesession.PermissionError{Actor: "mallory", Target: "bob", Needs: singlesession.PermLogout, UnknownActor: true},
			text: `singlesession: end session of "bob" by "mallory", a user the directory does not know: permission denied`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, tc.err, singlesession.ErrPermissionDenied)
			var perr *singlesession.PermissionError
			require.ErrorAs(t, tc.err, &perr)
			assert.Equal(t, tc.want, *perr)
			assert.EqualError(t, tc.err, tc.text)
		})
	}
	e := &env{Store: store}
	assert.Equal(t, 1, e.SessionsOf(t, "ruth"), "nothing ended")
	assert.Equal(t, 1, e.SessionsOf(t, "bob"))
}

// runErr is the error of Admin.Run's results.
func runErr(_ *singlesession.Result, err error) error { return err }

// The permission matrix of Admin.EndSession: actors holding nothing,
// logout, logout_all or admin; targets ordinary, admin, or the actor.
func TestAdminEndSessionPermissionMatrix(t *testing.T) {
	actors := map[string]string{"none": "alice", "logout": "sam", "logout_all": "tess", "admin": "root"}
	forEachStore(t, func(t *testing.T, e *env) {
		events := &evLog{}
		a := newApp(t, e.Store, withEvLog(events))
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		for holds, actor := range actors {
			for _, target := range []string{"bob", "ruth", actor} {
				t.Run(holds+"/"+target, func(t *testing.T) {
					ctx := context.Background()
					endAll(t, e.Store, allUserIDs()...)
					ids := seedDevices(t, e.Store, target, firefoxLinux, safariIPhone)
					seedDevices(t, e.Store, "carol", firefoxLinux)
					events.Take()

					err := admin.EndSession(ctx, actor, target, ids[0])

					permitted := holds == "admin" || holds == "logout_all" || (holds == "logout" && target != "ruth")
					if !permitted {
						require.ErrorIs(t, err, singlesession.ErrPermissionDenied)
						assert.ErrorContains(t, err, "singlesession: end session of")
						assert.Equal(t, 2, e.SessionsOf(t, target), "nothing ends")
						assert.Empty(t, events.Take())
						return
					}
					require.NoError(t, err)
					list, err := a.M.UserSessions(ctx, target)
					require.NoError(t, err)
					require.Len(t, list, 1, "exactly the one session ends")
					assert.Equal(t, ids[1], list[0].ID)
					assert.Equal(t, 1, e.SessionsOf(t, "carol"), "a bystander is untouched")
					ev := testapp.OneEvent(t, events.Take(), singlesession.EventEnded)
					assert.Equal(t, target, ev.UserID)
					assert.Equal(t, actor, ev.Actor, "the event names the operator")
					assert.Equal(t, singlesession.ReasonAdmin, ev.Reason)
					assert.Equal(t, 1, ev.Ended)
				})
			}
		}
	})
}

// Admin.EndSession ends nothing, with the sentinel that says why, for an ID
// that is not a live session of the user (another user's included), a user
// the directory does not know, an unknown actor and bad input.
func TestAdminEndSessionErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := newApp(t, e.Store)
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		bob := seedDevices(t, e.Store, "bob", firefoxLinux)
		carol := seedDevices(t, e.Store, "carol", firefoxLinux)
		seedDevices(t, e.Store, "ghost", firefoxLinux) // linked, but unknown to the directory
		expired := seedSessions(t, e.Store, "bob", 1)
		expire(t, e, expired[0])

		for name, tc := range map[string]struct {
			actor, user, id string
			want            error
		}{
			"another user's ID":   {"root", "bob", carol[0], singlesession.ErrSessionNotFound},
			"unknown ID":          {"root", "bob", "nope", singlesession.ErrSessionNotFound},
			"empty ID":            {"root", "bob", "", singlesession.ErrSessionNotFound},
			"expired session":     {"root", "bob", singlesession.SessionID(expired[0]), singlesession.ErrSessionNotFound},
			"user unknown to dir": {"root", "ghost", "x", singlesession.ErrSessionNotFound},
			"unknown actor":       {"mallory", "bob", bob[0], singlesession.ErrPermissionDenied},
			"empty actor":         {"", "bob", bob[0], singlesession.ErrPermissionDenied},
			"empty user":          {"root", "", bob[0], singlesession.ErrInvalidUserID},
			"invalid user":        {"root", "b\xffb", bob[0], singlesession.ErrInvalidUserID},
		} {
			t.Run(name, func(t *testing.T) {
				err := admin.EndSession(ctx, tc.actor, tc.user, tc.id)
				require.ErrorIs(t, err, tc.want)
				assert.True(t, strings.HasPrefix(err.Error(), "singlesession: "), err.Error())
				assert.Equal(t, 1, e.SessionsOf(t, "bob"))
				assert.Equal(t, 1, e.SessionsOf(t, "carol"))
				assert.Equal(t, 1, e.SessionsOf(t, "ghost"))
			})
		}
	})
}

// The browser whose session an operator ended is anonymous at its next
// request, and Manager.Ended tells it ReasonAdmin.
func TestAdminEndSessionBrowserLearnsWhy(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		laptop := a.Browser("laptop")
		laptop.MustLogin("bob")
		list, err := a.M.UserSessions(context.Background(), "bob")
		require.NoError(t, err)
		require.Len(t, list, 1)

		require.NoError(t, admin.EndSession(context.Background(), "sam", "bob", list[0].ID))
		assert.Equal(t, "", laptop.WhoAmI())
		ending, ok := laptop.Ending()
		require.True(t, ok)
		assert.Equal(t, singlesession.ReasonAdmin, ending.Reason)
		assert.Equal(t, "", ending.UserAgent, "operators leave no user agent")
	})
}
