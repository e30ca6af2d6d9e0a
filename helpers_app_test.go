package singlesession_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-singlesession/singlesession/internal/testapp"
)

// The shared harness (internal/testapp) under the names these tests use.
type (
	app       = testapp.App
	browser   = testapp.Browser
	appOption = testapp.Option
)

var (
	newApp             = testapp.New
	withPolicy         = testapp.WithPolicy
	withLimit          = testapp.WithLimit
	withConfig         = testapp.WithConfig
	withSessions       = testapp.WithSessions
	withRoute          = testapp.WithRoute
	keepOthersOnLogout = testapp.KeepOthersOnLogout
	scsVariants        = testapp.ScsVariants
	seedSessions       = testapp.SeedSessions
	checkDirectory     = testapp.CheckDirectory
	directoryUsers     = testapp.DirectoryUsers
	ids                = testapp.IDs
)

// newServer serves h on an httptest server closed when t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
