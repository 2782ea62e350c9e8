package account

// TakeHashTurns takes every password-hashing turn of s and makes a wait
// for one fail at once, so that any argon2id computation answers 503 until
// release: a test can tell whether a call hashed.
func TakeHashTurns(s *Service) (release func()) {
	wait := s.hashWait
	s.hashWait = 0
	for range cap(s.hashTurns) {
		s.hashTurns <- struct{}{}
	}
	return func() {
		for range cap(s.hashTurns) {
			<-s.hashTurns
		}
		s.hashWait = wait
	}
}

// BasicCacheTTL is how long a verified Basic password is remembered.
const BasicCacheTTL = basicCacheTTL
