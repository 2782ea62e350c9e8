package testsupport

import (
	"os"
	"testing"
)

// RequireServicesEnv, when set (CI sets it), turns the skip of a suite that
// needs an outside service into a failure, so a missing service is noticed.
const RequireServicesEnv = "AIMG_TEST_REQUIRE_SERVICES"

// ServiceURL returns the value of env, the address of an outside service a
// suite runs against; without it the test is skipped with hint, or fails
// when RequireServicesEnv is set.
func ServiceURL(t testing.TB, env, hint string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv(RequireServicesEnv) != "" {
			t.Fatalf("%s is required here (%s is set): %s", env, RequireServicesEnv, hint)
		}
		t.Skipf("skipped: set %s to run this suite (%s)", env, hint)
	}
	return v
}
