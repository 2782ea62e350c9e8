package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// One deployment serves several domains (DECISIONS.md "Domains"): the Host
// picks the domain, users belong to one, and a session does not cross over.
func TestDomainsSeparateUsersAndSessions(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.Domains = []config.Domain{
				{ID: "cats", DisplayName: "Cats", Hosts: []string{"cats.example"}},
				{ID: "dogs", DisplayName: "Dogs", Hosts: []string{"dogs.example"}},
			}
		})
		create := func(host string) *testsupport.Envelope {
			return srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/createUser", SessionID: uuid.NewString(),
				Header: map[string]string{"Host": host},
				Body:   map[string]any{"email": "same@example.com", "password": testsupport.TestPassword}})
		}
		var cat, dog struct{ SessionID, UserID string }
		c := create("cats.example")
		testsupport.ExpectOK(t, c)
		c.Decode(t, &cat)
		d := create("dogs.example:8080")
		testsupport.ExpectOK(t, d)
		d.Decode(t, &dog)
		if cat.UserID == dog.UserID {
			t.Fatal("the same email on two domains is one user")
		}
		// Registering again on the same domain is a conflict.
		testsupport.ExpectError(t, create("cats.example"), http.StatusConflict, "email")

		self := func(host, session string) *testsupport.Envelope {
			return srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getSelfUser", SessionID: session,
				Header: map[string]string{"Host": host}})
		}
		var me struct{ UserID string }
		env := self("cats.example", cat.SessionID)
		testsupport.ExpectOK(t, env)
		env.Decode(t, &me)
		if me.UserID != cat.UserID {
			t.Fatalf("cats session resolves to %q", me.UserID)
		}
		// The cats session is not valid on the dogs domain.
		testsupport.ExpectError(t, self("dogs.example", cat.SessionID), http.StatusUnauthorized, "")

		// Admin lookups by email stay within the request's domain.
		var found struct{ UserID string }
		byEmail := srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getUser?email=same@example.com",
			AdminKey: testsupport.AdminKey, Header: map[string]string{"Host": "dogs.example"}})
		testsupport.ExpectOK(t, byEmail)
		byEmail.Decode(t, &found)
		if found.UserID != dog.UserID {
			t.Fatalf("admin lookup on dogs found %q, want %q", found.UserID, dog.UserID)
		}
	})
}
