// Package release checks, in its tests, that the repository's modules can be
// released as they are: a local module proxy is built from the checkout (the
// root at v0.1.0, each published nested module at <dir>/v0.1.0, as their tags
// will be), and a fresh consumer module gets them with go get and builds,
// with no replace; every nested go.mod requires its siblings at v0.1.0 and
// has no replace, and is tidy against that proxy.
//
// It is a module of its own so that golang.org/x/mod, which builds the module
// zips, stays out of the library's requirements.
package release
