// Package scrub removes secrets (a database or Redis password) from error
// messages while keeping what the errors match, for the stores that open a
// connection from a URL holding one.
package scrub

import (
	"strconv"
	"strings"
)

// Error returns err, or, if its message holds one of secrets as written or
// as %q would show it, an error whose message has each replaced by xxxxx
// and which still matches (errors.Is, errors.As) what err matches.
func Error(err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if q := strconv.Quote(s); q[1:len(q)-1] != s {
			msg = strings.ReplaceAll(msg, q[1:len(q)-1], "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg, err}
}

// scrubbed is an error whose message had a secret removed.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
