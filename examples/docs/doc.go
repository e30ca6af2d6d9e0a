// Package docs holds, in its tests, the check that every Go code block of the
// repository's README.md and guides (docs/*.md, and each module's README)
// compiles as written: a block is a whole program (package main) or a set of
// declarations, which the test puts in a package of its own with the
// imports it names.
package docs
