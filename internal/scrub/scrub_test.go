package scrub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestError(t *testing.T) {
	base := fmt.Errorf("dial postgres://app:pa\"ss@db: %w", context.DeadlineExceeded)
	quoted := fmt.Errorf("bad value %q: %w", `pa"ss`, context.Canceled)
	for _, tt := range []struct {
		err    error
		secret string
		want   error
	}{
		{base, `pa"ss`, context.DeadlineExceeded},
		{quoted, `pa"ss`, context.Canceled},
	} {
		got := Error(tt.err, tt.secret)
		if strings.Contains(got.Error(), "pa") {
			t.Errorf("Error(%q) = %q; want the secret gone", tt.err, got)
		}
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) {
			t.Errorf("Error(%q) no longer matches %v", tt.err, tt.want)
		}
	}
	plain := errors.New("no secret here")
	if got := Error(plain, "pw", ""); got != plain {
		t.Errorf("Error without the secret = %v; want err itself", got)
	}
}
