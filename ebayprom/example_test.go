package ebayprom_test

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebayprom"
)

func ExampleCollector() {
	c := ebayprom.NewCollector()
	// With a Manager: ebayauth.Config{OnEvent: c.Observe} and c.SetStatus(m.Status).
	c.SetStatus(func() ebayauth.Status { return ebayauth.Status{State: ebayauth.StateFresh, Healthy: true} })
	c.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Duration: 300 * time.Millisecond})

	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range fams {
		switch f.GetName() {
		case "ebayauth_mints_today", "ebayauth_healthy":
			fmt.Println(f.GetName(), f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// ebayauth_healthy 1
	// ebayauth_mints_today 1
}
