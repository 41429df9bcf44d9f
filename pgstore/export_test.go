package pgstore

// SealRefreshToken seals rt as SaveAccount would for the account id, so
// that tests can load accounts in bulk (COPY) as the Store writes them.
func SealRefreshToken(s *Store, id, rt string) []byte {
	return s.seal.seal(accountsTable, id, []byte(rt))
}
