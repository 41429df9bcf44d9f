package webhook_test

import (
	"testing"

	"github.com/ebayauth/ebayauth/webhook"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/…"},
		{"https://alerts.example.com", "https://alerts.example.com"},
		{"https://alerts.example.com/", "https://alerts.example.com"},
		{"https://alerts.example.com?token=XXXX", "https://alerts.example.com/…"},
		{"https://alerts.example.com#XXXX", "https://alerts.example.com/…"},
		{"https://user:XXXX@alerts.example.com:8443", "https://alerts.example.com:8443"},
		{"https://XXXX@alerts.example.com/x", "https://alerts.example.com/…"},
		{"http://[::1]:8080/XXXX", "http://[::1]:8080/…"},
		{"https://user:XX?XX@alerts.example.com/x", "https://…"},
		{"https://alerts.example.com?email=XXXX@XXXX/x", "https://…"},
		{"https://alerts.example.com?token=XXXX/x", "https://alerts.example.com/…"},
		{"https://alerts.example.com/x@XXXX", "https://alerts.example.com/…"},
		{"http:///XXXX", "http://…"},
		{"http://h\nXXXX/", "http://…"},
		{"http://h.example/\x7fXXXX", "http://h.example/…"},
		{"hooks.example.com/services/XXXX", "…"},
		{"XXXX", "…"},
		{"://XXXX", "…"},
		{"1http://h/XXXX", "…"},
		{"", "…"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			if got := webhook.RedactURL(tc.raw); got != tc.want {
				t.Errorf("RedactURL(%q) = %q; want %q", tc.raw, got, tc.want)
			}
		})
	}
}
