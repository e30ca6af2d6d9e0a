package singlesession_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-singlesession/singlesession"
)

// FuzzAdminForm posts arbitrary bodies to the admin page's action as each kind
// of actor. Whatever the body: no 5xx; a refusal (4xx) ends nothing; a run
// (303) ends only sessions of users the form names and the actor may sign
// out: never an admin user's with "logout", never anything without the
// action's permission. Its seeds run as an ordinary test.
func FuzzAdminForm(f *testing.F) {
	for _, seed := range []string{
		"action=logout&user=alice&user=ruth",
		"action=logout_all&user=alice&user=ruth",
		"action=logout&user=alice&user=alice&user=ghost",
		"action=logout_all",
		"user=alice",
		"",
		"action=logout;user=alice",
		"action=logout&user=%zz",
		"action=logout&user=%FF",
		"action=logout&user=" + strings.Repeat("x", 600),
		"action=delete&user=alice",
		"action=logout&action=logout_all&user=ruth",
		"&&&action=logout_all&&user=ruth&",
		"action=logout_all&user=ruth%00",
		"action=logout_all&user=+alice",
		"action=logout_all&q=%FF&page=-1&user=alice",
	} {
		for actor := range 4 {
			f.Add(seed, uint8(actor))
		}
	}
	actors := []string{"root", "sam", "tess", "bob"}
	victims := []string{"alice", "ruth"}
	store := singlesession.NewMemoryStore()
	a := newAdminApp(f, store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{Logger: quietLogger})
	browsers := map[string]*browser{}
	for _, u := range append(slices.Clone(actors), victims...) {
		browsers[u] = a.Browser(u)
	}

	f.Fuzz(func(t *testing.T, body string, which uint8) {
		actor := actors[int(which)%len(actors)]
		for u, b := range browsers {
			b.T = t // the browsers outlive each run; report to this one
			if !b.Exists() {
				b.MustLogin(u)
			}
		}
		before := map[string]int{}
		for _, u := range victims {
			before[u] = (&env{Store: store}).SessionsOf(t, u)
		}
		b := browsers[actor]
		res, _ := b.Send("POST", "/admin/sessions/logout", body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s posted %q: %d", actor, body, res.StatusCode)
		}
		after := map[string]int{}
		for _, u := range victims {
			after[u] = (&env{Store: store}).SessionsOf(t, u)
		}
		if res.StatusCode != http.StatusSeeOther {
			for _, u := range victims {
				if after[u] != before[u] {
					t.Fatalf("%s posted %q, got %d, yet %s's sessions went %d → %d", actor, body, res.StatusCode, u, before[u], after[u])
				}
			}
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil && strings.Count(body, "&") >= 10000 {
			return // url.ParseQuery refuses so many fields; the admin page does not
		}
		if err != nil {
			t.Fatalf("%s posted %q, which does not parse (%v), and got 303", actor, body, err)
		}
		action := form.Get("action")
		for _, u := range victims {
			if after[u] == before[u] {
				continue
			}
			switch {
			case !slices.Contains(form["user"], u):
				t.Fatalf("%q ended %s, whom it does not name", body, u)
			case u == "ruth" && action == "logout":
				t.Fatalf("%q (logout) ended admin user ruth", body)
			case actor == "bob" || (actor == "sam" && action != "logout") || (actor == "tess" && action != "logout_all"):
				t.Fatalf("%s ran %q without its permission", actor, body)
			}
		}
	})
}
