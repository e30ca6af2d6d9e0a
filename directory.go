package singlesession

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// User is what the operators' actions need to know about one user: whether
// it is an admin user, and which of the operators' permissions it holds.
type User struct {
	// ID is the user ID, as passed to [Manager.LoginHook].
	ID string `json:"id"`

	// Admin marks an admin user (Django's superuser). An admin user holds
	// [PermLogout] and [PermLogoutAll] implicitly, and the action
	// [ActionLogout] skips it.
	Admin bool `json:"admin"`

	// Permissions lists the permissions the user holds; only [PermLogout]
	// and [PermLogoutAll] mean anything to this package.
	Permissions []string `json:"permissions,omitempty"`
}

// HasPermission reports whether u holds perm, explicitly or, for
// [PermLogout] and [PermLogoutAll], as an admin user.
func (u User) HasPermission(perm string) bool {
	if u.Admin && (perm == PermLogout || perm == PermLogoutAll) {
		return true
	}
	return slices.Contains(u.Permissions, perm)
}

// A Directory tells the operators' actions ([Admin]) who the users are, which
// of them are admin users and which permissions they hold. The application
// implements it over its own user records, or uses [StaticDirectory] or
// pgxstore's Directory.
//
// Both methods are called once per action or page, never once per user, so an
// implementation over a database answers each call with one query.
type Directory interface {
	// Users returns what is known of each of ids, keyed by ID. IDs it does not
	// know are absent from the map; that is not an error. [Admin] passes
	// distinct, valid user IDs: up to all the users of one action.
	Users(ctx context.Context, ids []string) (map[string]User, error)

	// Search lists the users whose ID contains query ("" matches every
	// user), ordered by ID (byte order), skipping the first offset and
	// returning at most limit, with the number of users that match in all.
	// [Admin] passes offset >= 0 and limit >= 1.
	Search(ctx context.Context, query string, offset, limit int) (users []User, total int, err error)
}

// StaticDirectory is a [Directory] over a fixed list of users held in memory,
// for demos, tests and applications with a handful of operators. Create it
// with [NewStaticDirectory]; it is safe for concurrent use.
type StaticDirectory struct {
	users  []User          // sorted by ID
	byID   map[string]User // the same users
	failed error           // why the list was rejected; nil when it is fine
}

// NewStaticDirectory returns a directory of users. Every user ID must be
// acceptable to [Manager.LoginHook] and appear once, and Permissions may hold
// only [PermLogout] and [PermLogoutAll]. A list that breaks these rules makes
// a directory whose methods return the error, which [NewAdmin] also returns,
// so the mistake surfaces at start-up. The users are copied.
func NewStaticDirectory(users ...User) *StaticDirectory {
	d := &StaticDirectory{byID: make(map[string]User, len(users))}
	for _, u := range users {
		if err := ValidateUserID(u.ID); err != nil {
			d.failed = fmt.Errorf("singlesession: static directory: user %.40q: %w", u.ID, err)
			return d
		}
		if _, dup := d.byID[u.ID]; dup {
			d.failed = fmt.Errorf("singlesession: static directory: user %q appears twice", u.ID)
			return d
		}
		for _, p := range u.Permissions {
			if p != PermLogout && p != PermLogoutAll {
				d.failed = fmt.Errorf("singlesession: static directory: user %q: %w %q (want %q or %q)", u.ID, ErrUnknownPermission, p, PermLogout, PermLogoutAll)
				return d
			}
		}
		u.Permissions = slices.Clone(u.Permissions)
		d.byID[u.ID] = u
		d.users = append(d.users, u)
	}
	slices.SortFunc(d.users, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	return d
}

// Users implements [Directory.Users].
func (d *StaticDirectory) Users(_ context.Context, ids []string) (map[string]User, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	found := make(map[string]User, min(len(ids), len(d.byID)))
	for _, id := range ids {
		if u, ok := d.byID[id]; ok {
			u.Permissions = slices.Clone(u.Permissions)
			found[id] = u
		}
	}
	return found, nil
}

// Search implements [Directory.Search] with a case-sensitive substring match.
// A negative offset or limit is an error.
func (d *StaticDirectory) Search(_ context.Context, query string, offset, limit int) ([]User, int, error) {
	if err := d.validate(); err != nil {
		return nil, 0, err
	}
	if offset < 0 || limit < 0 {
		return nil, 0, fmt.Errorf("singlesession: search users: negative offset (%d) or limit (%d)", offset, limit)
	}
	var page []User
	total := 0
	for _, u := range d.users {
		if !strings.Contains(u.ID, query) {
			continue
		}
		if total >= offset && len(page) < limit {
			u.Permissions = slices.Clone(u.Permissions)
			page = append(page, u)
		}
		total++
	}
	return page, total, nil
}

func (d *StaticDirectory) validate() error {
	switch {
	case d == nil || d.byID == nil:
		return errors.New("singlesession: static directory is not initialised: create it with NewStaticDirectory")
	case d.failed != nil:
		return d.failed
	}
	return nil
}
