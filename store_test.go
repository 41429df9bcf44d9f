package ebayauth_test

import (
	"testing"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) ebayauth.Store { return ebayauth.NewMemoryStore() })
}
