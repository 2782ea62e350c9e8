package web

// A batch's Items (getBatchItems).

func (s *Server) batchPages(page route) {}
