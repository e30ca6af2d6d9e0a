package main

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"github.com/go-singlesession/singlesession"
)

// demoAccounts are the demo users. Each one's password is its name. They are
// the library's directory users as they are, so the list goes to the admin
// page (admin.go) unchanged.
var demoAccounts = []singlesession.User{
	{ID: "alice"},
	{ID: "bob"},
	{ID: "sam", Permissions: []string{singlesession.PermLogout}},
	{ID: "tess", Permissions: []string{singlesession.PermLogoutAll}},
	{ID: "root", Admin: true},
	{ID: "ruth", Admin: true},
}

// role names an account's kind as the login page shows it: admin users hold
// every permission, staff hold some, ordinary users none.
func role(a singlesession.User) string {
	switch {
	case a.Admin:
		return "admin"
	case len(a.Permissions) > 0:
		return "staff"
	default:
		return "ordinary"
	}
}

// users checks passwords against bcrypt hashes. It keeps no password in clear
// text: newUsers hashes each demo password once, at start-up.
type users struct {
	accounts []singlesession.User          // in the order of demoAccounts
	byID     map[string]singlesession.User // the same, by ID
	hashes   map[string][]byte             // bcrypt hashes by ID
	dummy    []byte                        // the hash of a random password, for unknown users
}

// newUsers hashes the demo passwords with the given bcrypt cost
// (bcrypt.DefaultCost when 0).
func newUsers(cost int) (*users, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	u := &users{
		accounts: demoAccounts,
		byID:     make(map[string]singlesession.User, len(demoAccounts)),
		hashes:   make(map[string][]byte, len(demoAccounts)),
	}
	// The hashes are slow on purpose: make them side by side.
	hashes := make([][]byte, len(demoAccounts)+1)
	var g errgroup.Group
	for i := range hashes {
		g.Go(func() error {
			// The demo password is the user's name; the last hash is the
			// dummy's, of a random password.
			password := rand.Text()
			if i < len(demoAccounts) {
				password = demoAccounts[i].ID
			}
			h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
			hashes[i] = h
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("hash the demo passwords: %w", err)
	}
	for i, a := range demoAccounts {
		u.byID[a.ID] = a
		u.hashes[a.ID] = hashes[i]
	}
	u.dummy = hashes[len(demoAccounts)]
	return u, nil
}

// authenticate returns the account whose name and password these are. An
// unknown name costs one bcrypt comparison too, so the time a failed login
// takes does not tell whether the name exists.
func (u *users) authenticate(name, password string) (singlesession.User, bool) {
	hash, known := u.hashes[name]
	if !known {
		hash = u.dummy
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !known || err != nil {
		return singlesession.User{}, false
	}
	return u.byID[name], true
}

// lookup returns the account with the given ID.
func (u *users) lookup(id string) (singlesession.User, bool) {
	a, ok := u.byID[id]
	return a, ok
}
