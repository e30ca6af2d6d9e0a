package redisstore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A script carries the definitions of lib that it uses, directly or through
// others, and nothing more: words in comments and string literals name
// nothing.
func TestPrelude(t *testing.T) {
	got := prelude("return find_user(ARGV[2], ARGV[4], ARGV[3]) -- not user(), not 'publish'")
	for _, want := range []string{"local P = ", "local function find_user(", "local function ended_reply(", "local function parse("} {
		assert.Contains(t, got, want)
	}
	for _, unwanted := range []string{"local function user(", "local function publish(", "local function keep(", "local B = "} {
		assert.NotContains(t, got, unwanted)
	}
	assert.Less(t, strings.Index(got, "local function parse("), strings.Index(got, "local function ended_reply("), "in lib's order")

	all := prelude("local x = " + strings.Join(names(), " + "))
	assert.Equal(t, len(definitions)-1, strings.Count(all, "\nlocal "), "every definition once, when all are used")
}

func names() []string {
	var out []string
	for _, d := range definitions {
		out = append(out, d.names...)
	}
	return out
}
