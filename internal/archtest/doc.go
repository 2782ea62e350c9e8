// Package archtest holds tests of the architecture itself: which packages
// may depend on which (see deps_test.go). It has no code of its own.
package archtest
