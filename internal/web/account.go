package web

// The account pages: profile picture, username, password, email change,
// premium plans and gift cards, app passwords.

func (s *Server) accountPages(page route) {}
