package httpapi

// routes registers every AIMG operation; each group lives in its own file.
func (s *Server) routes() {
	s.registerAccountRoutes()
	s.registerGenerationRoutes()
	s.registerFileRoutes()
	s.registerPGQueryRoutes()
	s.registerItemRoutes()
	s.registerTechnicalRoutes()
}
