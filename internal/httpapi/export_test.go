package httpapi

import "github.com/danielgtaylor/huma/v2"

// API exposes the huma API (the OpenAPI document) to the tests.
func (s *Server) API() huma.API { return s.api }

// Routes lists the operations as registered.
func (s *Server) Routes() []route { return s.table }
