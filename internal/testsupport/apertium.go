package testsupport

import "testing"

// ApertiumEnv names the Apertium APy server the translation tests use.
const ApertiumEnv = "AIMG_TEST_APERTIUM_URL"

// ApertiumURL returns the APy server's URL (http://127.0.0.1:2737), or
// skips the test without one (fails when RequireServicesEnv is set).
func ApertiumURL(t testing.TB) string {
	t.Helper()
	return ServiceURL(t, ApertiumEnv, `export "$(scripts/apertium-server.sh)" starts APy with the eng-spa and eng-cat pairs`)
}
