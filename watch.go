package singlesession

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SessionContext returns a context derived from ctx (a request's, inside
// [Manager.Middleware] or after [Manager.Load]) that is cancelled when that
// request's session ends — on any instance that shares the store — with a
// cause that wraps [ErrSessionEnded] and carries the [Ending]
// ([*EndedError]; read it with context.Cause). Use it for what outlives an
// ordinary request: a WebSocket, a streaming response, a long poll, which
// would otherwise keep serving a user whose session is gone.
//
// Every way a session ends counts: a login elsewhere, a limit, a logout (of
// this browser in another tab too), an operator, [Manager.EndSession],
// [Manager.EndOtherSessions]; and its expiry, at the session's expiry
// (sliding with scs's IdleTimeout), with [ReasonExpired]. Over a
// [NotifyingStore] (the memory store, pgxstore, redisstore) the
// cancellation follows the commit of the change within a second; over
// another store the Manager checks the watched sessions every 2 seconds.
//
// For a request with no signed-in session the context is cancelled at once,
// with a cause wrapping [ErrSessionNotFound]; for one whose cookie names a
// session that ended with a recorded reason, with an [*EndedError]. A session
// that ends between the request's load and the call is caught too.
//
// The request that calls it writes nothing: scs does not save its session
// (with IdleTimeout either), its LastSeen is not refreshed, and no cookie is
// set, so that a long-lived connection neither keeps a session alive nor
// counts as its use. Call cancel when done; it releases what the watch holds,
// as does the end of ctx. The Manager opens one listening connection for all
// of its watches, on the first, and gives it back when the last ends.
func (m *Manager) SessionContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel, _ := m.watch(ctx, false)
	return wctx, cancel
}

// watch is SessionContext; with others set it also returns a channel that
// receives (without blocking, so several may merge into one) whenever
// another session of the same user ends, for WatchHandler's "sessions"
// event.
func (m *Manager) watch(ctx context.Context, others bool) (context.Context, context.CancelFunc, <-chan struct{}) {
	wctx, cancel := context.WithCancelCause(ctx)
	done := func() { cancel(context.Canceled) }
	st := m.state(ctx)
	if st == nil {
		cancel(fmt.Errorf("singlesession: session context: %w: %w", ErrSessionNotFound, ErrNoMiddleware))
		return wctx, done, nil
	}
	s, ending, ok := st.watched()
	switch {
	case ok:
	case ending != nil:
		cancel(&EndedError{Ending: *ending})
		return wctx, done, nil
	default:
		cancel(fmt.Errorf("singlesession: session context: %w: the request has no signed-in session", ErrSessionNotFound))
		return wctx, done, nil
	}
	w := &watcher{watchedSession: s, cancel: cancel}
	if others {
		w.others = make(chan struct{}, 1)
	}
	m.hub.add(w)
	stop := context.AfterFunc(wctx, func() { m.hub.remove(w) })
	return wctx, func() {
		stop()
		cancel(context.Canceled)
		m.hub.remove(w) // at once; remove is idempotent
	}, w.others
}

// watchedSession is what a watch knows of the session it watches.
type watchedSession struct {
	userID, token, id string
	expiry            time.Time // in the store, as the load found it
	loadedAt          time.Time // when the request's load began
}

// watcher is one SessionContext.
type watcher struct {
	watchedSession
	cancel context.CancelCauseFunc
	timer  *time.Timer   // fires at the session's expiry
	gone   bool          // removed from the hub (under hub.mu)
	others chan struct{} // when not nil: told that another session of the user ended
}

// otherEnded tells w, if it asked, that another session of its user ended.
func (w *watcher) otherEnded() {
	if w.others == nil {
		return
	}
	select {
	case w.others <- struct{}{}:
	default: // one pending signal says it already
	}
}

// end cancels the watch with why the session ended.
func (w *watcher) end(e Ending) {
	w.cancel(&EndedError{Ending: e})
}

const (
	// pollInterval is how often the watched sessions are checked over a
	// store that is not a NotifyingStore.
	pollInterval = 2 * time.Second

	// checkTimeout bounds each check of a watched session.
	checkTimeout = 2 * time.Second

	// recentFor is how long the hub remembers notices, for a watch whose
	// request loaded its session before a notice came and registers after.
	recentFor = 30 * time.Second

	// checkers bounds the Finds that run at once when the hub checks many
	// watched sessions (after the channel comes back).
	checkers = 8

	// expiryGrace is how long after a session's expiry its watch checks it:
	// the store's clock decides, not this process's.
	expiryGrace = 20 * time.Millisecond
)

// hub is the watches of one Manager and the one subscription that feeds
// them. It listens while it has watches, and stops when the last ends.
type hub struct {
	m *Manager

	mu      sync.Mutex
	users   map[string]map[*watcher]struct{} // by user
	n       int
	stop    context.CancelFunc // the listener's, while it runs
	readyAt time.Time          // when the subscription became ready; zero while it is not
	readyC  chan struct{}      // closed while the hub hears every ending (see listening); nil exactly while stop is
	recent  []heard            // the notices of the last recentFor, oldest first
}

// listening returns a channel that is closed once the hub hears every
// ending committed from then on: its subscription is ready (or, over a
// store without notices, it polls). It is nil while the hub has no watch
// (a receive then waits for the caller's other cases).
func (h *hub) listening() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.readyC
}

// markReady closes readyC, under h.mu, while the hub runs.
func (h *hub) markReady() {
	select {
	case <-h.readyC:
	default:
		close(h.readyC)
	}
}

// markNotReady, under h.mu, while the hub runs, records that it no longer
// hears every ending: readyAt zero, readyC open again.
func (h *hub) markNotReady() {
	h.readyAt = time.Time{}
	select {
	case <-h.readyC:
		h.readyC = make(chan struct{})
	default:
	}
}

// heard is a notice and when it came.
type heard struct {
	Notice
	at time.Time
}

// add registers w and starts the listener if w is the first watch. An end
// between w's load and now is caught: from the notices heard since the load
// when the subscription was ready before it, or else by checking w once
// the subscription is ready.
func (h *hub) add(w *watcher) {
	h.mu.Lock()
	if h.users == nil {
		h.users = map[string]map[*watcher]struct{}{}
	}
	if h.users[w.userID] == nil {
		h.users[w.userID] = map[*watcher]struct{}{}
	}
	h.users[w.userID][w] = struct{}{}
	h.n++
	if h.stop == nil {
		ctx, stop := context.WithCancel(context.Background())
		h.stop, h.readyAt, h.readyC = stop, time.Time{}, make(chan struct{})
		go h.run(ctx)
	}
	var (
		ended  *Ending
		check  bool
		others bool
	)
	switch {
	case h.readyAt.IsZero():
		// Not listening yet: the check at ready covers w.
	case h.readyAt.After(w.loadedAt):
		check = true // listening began after the load: an end before it went unheard
	default:
		for _, n := range h.recent {
			if n.UserID != w.userID || n.at.Before(w.loadedAt) {
				continue
			}
			switch {
			case n.IDs == nil:
				check = true
			case slices.Contains(n.IDs, w.id):
				e := n.Ending
				ended = &e
			default:
				others = true // another session of the user ended since the load
			}
		}
	}
	w.timer = time.AfterFunc(time.Until(w.expiry)+expiryGrace, func() { h.expired(w) })
	h.mu.Unlock()

	switch {
	case ended != nil:
		w.end(*ended)
	case check:
		go func() {
			if h.check(w, Ending{}) && others {
				w.otherEnded()
			}
		}()
	case others:
		w.otherEnded()
	}
}

// remove forgets w, and stops the listener when w was the last watch.
func (h *hub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.users[w.userID][w]; !ok {
		return
	}
	w.timer.Stop()
	w.gone = true
	delete(h.users[w.userID], w)
	if len(h.users[w.userID]) == 0 {
		delete(h.users, w.userID)
	}
	h.n--
	if h.n == 0 && h.stop != nil {
		h.stop()
		h.stop, h.readyAt, h.readyC, h.recent = nil, time.Time{}, nil, nil
	}
}

// run feeds the hub until ctx ends: from the store's notices, or, over a
// store that sends none, by checking every watch every pollInterval.
func (h *hub) run(ctx context.Context) {
	ns, ok := h.m.store.(NotifyingStore)
	if !ok {
		h.mu.Lock()
		if h.stop != nil && ctx.Err() == nil {
			h.markReady()
		}
		h.mu.Unlock()
		h.poll(ctx)
		return
	}
	backoff := 100 * time.Millisecond
	for {
		err := ns.Listen(ctx, func() { h.ready(ctx); backoff = 100 * time.Millisecond }, h.notice)
		h.mu.Lock()
		if h.stop != nil && ctx.Err() == nil {
			h.markNotReady() // heard no more until it is ready again
		}
		h.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		h.m.logger.WarnContext(ctx, "singlesession: listening for ended sessions failed; trying again", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// poll checks every watch every pollInterval until ctx ends.
func (h *hub) poll(ctx context.Context) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.checkAll(ctx)
		}
	}
}

// ready marks the subscription ready and checks every watch: what ended
// while the hub was not listening (before it began, during an outage) was
// not heard.
func (h *hub) ready(ctx context.Context) {
	h.mu.Lock()
	if h.stop != nil && ctx.Err() == nil {
		h.readyAt = time.Now()
		h.markReady()
	}
	h.mu.Unlock()
	go h.checkAll(ctx)
}

// checkAll checks every watch, a few at a time.
func (h *hub) checkAll(ctx context.Context) {
	h.mu.Lock()
	var all []*watcher
	for _, ws := range h.users {
		for w := range ws {
			all = append(all, w)
		}
	}
	h.mu.Unlock()
	sem := make(chan struct{}, checkers)
	var wg sync.WaitGroup
	for _, w := range all {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			h.check(w, Ending{})
		})
	}
	wg.Wait()
}

// notice hands a store's notice to the watches it concerns: those of the
// sessions it names end at once; when it names none, every watch of its
// user is checked.
func (h *hub) notice(n Notice) {
	now := time.Now()
	h.mu.Lock()
	drop := 0
	for drop < len(h.recent) && now.Sub(h.recent[drop].at) > recentFor {
		drop++
	}
	h.recent = append(h.recent[drop:], heard{Notice: n, at: now})
	var ended, check, others []*watcher
	for w := range h.users[n.UserID] {
		switch {
		case n.IDs == nil:
			check = append(check, w)
		case slices.Contains(n.IDs, w.id):
			ended = append(ended, w)
		default:
			others = append(others, w)
		}
	}
	h.mu.Unlock()
	for _, w := range ended {
		w.end(n.Ending)
	}
	for _, w := range others {
		w.otherEnded()
	}
	if len(check) > 0 {
		go func() {
			for _, w := range check {
				if h.check(w, n.Ending) {
					w.otherEnded()
				}
			}
		}()
	}
}

// find loads the watched session, within checkTimeout: a store that hangs
// fails the check (which is tried again) instead of holding the checker,
// and with it every other watch's check.
func (h *hub) find(w *watcher) (FindResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	return h.m.store.Find(ctx, w.token, h.m.staleAfter)
}

// check looks the watched session up, and ends the watch when it is gone,
// with why it ended (the store's record, else why, else ""). It reports
// whether the session is still live.
func (h *hub) check(w *watcher, why Ending) (live bool) {
	f, err := h.find(w)
	if err != nil {
		h.m.logger.Warn("singlesession: checking a watched session failed", "session", w.id, "err", err)
		return true
	}
	switch {
	case f.Found:
		live = true
		h.mu.Lock()
		if !w.gone && f.Expiry.After(w.expiry) {
			w.expiry = f.Expiry
			w.timer.Reset(time.Until(f.Expiry) + expiryGrace)
		}
		h.mu.Unlock()
	case f.Ending != nil:
		w.end(*f.Ending)
	case why.Reason == "" && !time.Now().Before(w.expiry):
		w.end(Ending{Reason: ReasonExpired, At: w.expiry})
	default:
		if why.At.IsZero() {
			why.At = time.Now()
		}
		w.end(why)
	}
	return live
}

// expired checks w at its session's expiry: a session that another request
// kept alive (IdleTimeout) is watched until its new expiry.
func (h *hub) expired(w *watcher) {
	f, err := h.find(w)
	switch {
	case err != nil:
		h.m.logger.Warn("singlesession: checking a watched session failed", "session", w.id, "err", err)
		h.mu.Lock()
		if !w.gone {
			w.timer.Reset(pollInterval)
		}
		h.mu.Unlock()
	case f.Found:
		h.mu.Lock()
		if !w.gone {
			w.expiry = f.Expiry
			w.timer.Reset(time.Until(f.Expiry) + expiryGrace)
		}
		h.mu.Unlock()
	case f.Ending != nil:
		w.end(*f.Ending)
	default:
		w.end(Ending{Reason: ReasonExpired, At: w.expiry})
	}
}
