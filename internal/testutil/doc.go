// Package testutil holds what the project's tests share: a log buffer that concurrent
// goroutines may write to, a logger that shows its output only when a test fails, and one
// way to wait for a condition with a deadline instead of sleeping.
package testutil
