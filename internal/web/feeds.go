package web

// The public side: latest and public creations, a user's public page, a
// public folder; every page here works for a signed-out visitor.

func (s *Server) feedPages(page route) {}
