package web

// The admin pages.

func (s *Server) adminPages(page route) {}
