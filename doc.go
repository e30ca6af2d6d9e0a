// Package singlesession gives each user of a net/http application one active
// [scs] session: signing in on a new browser or device ends the user's older
// sessions, signing out ends them all, and operators can sign chosen users out
// everywhere. It is the Go counterpart of the Django app django-single-session.
//
// The guarantees hold under concurrency: a session that has ended never comes
// back, not even through a request of it that was in flight and saves the
// session; concurrent logins of one user, on any number of instances sharing
// the database, leave exactly one session. An ordinary request costs no
// database round trip beyond scs's own session load.
//
// # Setup
//
// Give the library your [scs.SessionManager] and a [Store]: [MemoryStore],
// PostgreSQL's (package pgxstore, whose Migrate creates its tables) or
// Redis's (module redisstore). [New] sets the SessionManager's Store; every
// other scs option (Lifetime, IdleTimeout, Cookie, Codec, HashTokenInStore)
// keeps working.
//
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err := pgxstore.Migrate(ctx, pool); err != nil { ... }
//	sessions := scs.New()
//	m, err := singlesession.New(sessions, pgxstore.New(pool), singlesession.Config{})
//	if err != nil { ... }
//	http.ListenAndServe(addr, m.Middleware(mux)) // Middleware includes sessions.LoadAndSave
//
// In handlers, call [Manager.LoginHook] once the user has proved who they are,
// [Manager.LogoutHook] to sign out, and [Manager.UserID] to know who is signed
// in. Schedule [Manager.DeleteExpired] or run [Manager.RunCleanup] to remove
// expired sessions; their links go with them.
//
// [MemoryStore] keeps everything in process memory with the same rules, for
// demos, tests and single-instance programs.
//
// # Policies
//
// [Config.Policy] decides at each login whether the user's other sessions
// end: [Always] (the default), [Never], or a function of your own that decides
// per user. Logout ends every session of the user whatever the policy, unless
// [Config.KeepOtherSessionsOnLogout] is set.
//
// # Limits
//
// [Config.Limit], instead of a Policy, lets each user hold up to
// [Limit].Max sessions at once. A login past that number ends the least
// recently used of the user's other sessions (LastSeen, refreshed at most
// once per [Config.LastSeenInterval]), or, with [Limit].RejectNew, is
// refused with [ErrTooManySessions], which [Manager.LoginHook] returns
// itself whenever the user is already full. Limit{Max: 1} is [Always];
// Limit{} is [Never]. Both stay exact when logins race across instances.
//
// # Session lists and reasons
//
// Each signed-in session records the client's IP ([Config.ClientIP]) and
// User-Agent at login, and when it was last seen. [Manager.Sessions] lists
// the request's user's sessions for a "your sessions" page, with
// [Manager.EndSession] and [Manager.EndOtherSessions] as its buttons;
// [Manager.UserSessions] and [Manager.EndUserSession] serve operators. A
// session is known by an opaque ID ([SessionID]), never by its token.
//
// When the library ends a session it remembers why, keyed by a hash of the
// token, until the session would have expired: [Manager.Ended] tells the
// ended browser's next requests ([ReasonLogin], [ReasonLogout],
// [ReasonRevoked], [ReasonAdmin]), so a login page can say "you signed in on
// another device". [Config.OnEvent] receives every change ([Event]) after it
// is committed, for an audit log.
//
// # Operators
//
// [Manager.LogoutUser] and [Manager.LogoutUsers] end every session of chosen
// users, with no permission check, in one store operation.
//
// [Admin] runs the two actions of django-single-session under their
// permissions: [ActionLogout] needs [PermLogout] and skips admin users;
// [ActionLogoutAll] needs [PermLogoutAll] and signs anyone out. Admin users
// hold both. Who is an admin and who holds which permission comes from a
// [Directory] the application implements, or from [NewStaticDirectory] or
// pgxstore.NewDirectory. [Admin.Run] returns a [Result] that names who was
// signed out and who was skipped and why. [Admin.EndSession] ends one
// session of a user, by the ID [Manager.UserSessions] lists, under the same
// permissions (an admin user's needs [PermLogoutAll]). An Admin is also an
// http.Handler, the admin page, which lists users, a chosen user's sessions
// and the buttons for both; mount it under any prefix with
// http.StripPrefix inside [Manager.Middleware]. The command singlesession (cmd/singlesession) does
// the same from a shell: migrate, sessions, logout, grant, revoke.
//
// # Migrations
//
// The SQL lives in the goose-format files of [migrations.FS]: scs's sessions
// table, unchanged (an existing one is kept with its rows); the link table
// singlesession_links, which references it with ON DELETE CASCADE and records
// each session's user, ID, IP, User-Agent and LastSeen; the reasons of ended
// sessions, singlesession_endings; and the grants of pgxstore's Directory.
// pgxstore.Migrate applies them in one transaction under an advisory lock,
// so instances that start together are safe, and records versions in goose's
// layout, so teams that use goose can apply the same files with it.
//
// # How it works
//
// The Store is installed in scs through an adapter. A session's user is its
// row in the link table, read together with the session in scs's one load
// query. A login is applied inside scs's save, as one transaction that takes a
// per-user advisory lock, ends the browser's previous token and (per the
// policy) the user's other sessions, then writes and links the new session. A
// session that was loaded in the request is saved with an UPDATE, never an
// UPSERT: if it ended meanwhile, the write is dropped and the browser's next
// request is anonymous.
//
// [scs]: https://github.com/alexedwards/scs
package singlesession
