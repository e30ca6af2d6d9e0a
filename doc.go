// Package singlesession gives each user of a net/http application one active
// [scs] session: signing in on a new browser or device ends the user's older
// sessions, signing out ends them all, and operators can sign chosen users out
// everywhere. It is the Go counterpart of the Django app django-single-session.
//
// The guarantees hold under concurrency: a session that has ended never comes
// back, not even through a request of it that was in flight and saves the
// session; concurrent logins of one user, on any number of instances sharing
// the store, leave exactly one session (or exactly as many as a [Limit]
// allows). An ordinary request costs no database round trip beyond scs's own
// session load.
//
// # Setup
//
// Give the library your [scs.SessionManager] and a [Store]: [MemoryStore]
// (tests, demos, one instance), PostgreSQL's (package pgxstore, whose Migrate
// creates its tables) or Redis's (module redisstore). [New] sets the
// SessionManager's Store; every other scs option (Lifetime, IdleTimeout,
// Cookie, Codec, HashTokenInStore) keeps working. The package itself imports
// only scs and the standard library.
//
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err := pgxstore.Migrate(ctx, pool); err != nil { ... }
//	sessions := scs.New()
//	m, err := singlesession.New(sessions, pgxstore.New(pool), singlesession.Config{})
//	if err != nil { ... }
//	http.ListenAndServe(addr, m.Middleware(mux)) // in place of sessions.LoadAndSave
//
// In handlers, call [Manager.LoginHook] once the user has proved who they are
// (in place of the sessions.RenewToken you had there), [Manager.LogoutHook] to
// sign out, and [Manager.UserID] to know who is signed in. A middleware that
// carries the token elsewhere than in a cookie uses [Manager.Load] and
// [Manager.Commit]; so do handler tests. Schedule [Manager.DeleteExpired] or
// run [Manager.RunCleanup] to remove expired sessions.
//
// # Policies and limits
//
// [Config.Policy] decides at each login whether the user's other sessions
// end: [Always] (the default), [Never], or a function of your own that decides
// per user. Logout ends every session of the user whatever the policy, unless
// [Config.KeepOtherSessionsOnLogout] is set. [Config.Limit], instead of a
// Policy, lets each user hold up to [Limit].Max sessions at once: a login past
// that ends the least recently used, or, with [Limit].RejectNew, is refused
// with [ErrTooManySessions]. Both stay exact when logins race across
// instances.
//
// # Session lists, reasons and events
//
// Each signed-in session records the client's IP ([Config.ClientIP]) and
// User-Agent at login, and when it was last seen. [Manager.SessionsPage] lists
// the request's user's sessions in bounded pages, most recently used first,
// for a "your sessions" page, with [Manager.EndSession] and
// [Manager.EndOtherSessions] as its buttons; [Manager.UserSessionsPage] and
// [Manager.EndUserSession] serve operators. A session is known by an opaque ID
// ([SessionID]), never by its token. A request whose own session ended while
// it ran ends nothing.
//
// When the library ends a session it remembers why, keyed by a hash of the
// token, until the session would have expired: [Manager.Ended] tells the
// ended browser's next requests ([ReasonLogin], [ReasonLogout],
// [ReasonRevoked], [ReasonAdmin]). [Config.OnEvent] receives every change
// ([Event]) after it is committed, for an audit log; a panic in it breaks
// nothing.
//
// # Live endings
//
// [Manager.SessionContext] returns a context that is cancelled the moment
// the request's session ends, on any instance, with an [*EndedError] that says
// why: give it to a WebSocket, a stream or a long poll. [Manager.WatchHandler]
// serves the same as Server-Sent Events, so that an open tab learns at once
// that it was signed out. Stores that are a [NotifyingStore] (all three of
// this repository) deliver the endings within a second.
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
// signed out and who was skipped and why; [Admin.EndSession] ends one session
// of a user under the same permissions. An Admin is also an http.Handler, the
// admin page; the command singlesession (cmd/singlesession) does the same from
// a shell.
//
// # Stores of your own
//
// [Store] documents each method's contract (atomicity, the per-user lock,
// bounded work); [IterableStore], [CleanupStore] and [NotifyingStore] are
// optional. The package storetest is the conformance suite every store of
// this repository passes; run it against yours.
//
// [scs]: https://github.com/alexedwards/scs
package singlesession
