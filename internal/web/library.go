package web

// Library pages: gallery filters, the Item page's actions (tags, likes,
// public approval, folders), the folders.

func (s *Server) libraryPages(page route) {}
