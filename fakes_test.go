package singlesession_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-singlesession/singlesession"
)

var errBroken = errors.New("broken store")

// failingStore is a Store whose calls fail with errBroken while fail is set:
// every call it wraps, or only the method named by only ("Login": a login's
// save fails, while the browser's session still loads and saves).
type failingStore struct {
	singlesession.Store
	fail atomic.Bool
	only string
}

// failing reports whether a call of method fails now.
func (f *failingStore) failing(method string) bool {
	return f.fail.Load() && (f.only == "" || f.only == method)
}

func (f *failingStore) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	if f.failing("Find") {
		return singlesession.FindResult{}, errBroken
	}
	return f.Store.Find(ctx, token, staleAfter)
}

func (f *failingStore) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	if f.failing("Update") {
		return false, errBroken
	}
	return f.Store.Update(ctx, u)
}

func (f *failingStore) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if f.failing("Insert") {
		return errBroken
	}
	return f.Store.Insert(ctx, token, data, expiry)
}

func (f *failingStore) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if f.failing("Login") {
		return singlesession.LoginResult{}, errBroken
	}
	return f.Store.Login(ctx, l)
}

// failingDirectory is a Directory whose Users fails while fail is set.
type failingDirectory struct {
	singlesession.Directory
	fail atomic.Bool
}

func (d *failingDirectory) Users(ctx context.Context, ids []string) (map[string]singlesession.User, error) {
	if d.fail.Load() {
		return nil, fmt.Errorf("directory down")
	}
	return d.Directory.Users(ctx, ids)
}
