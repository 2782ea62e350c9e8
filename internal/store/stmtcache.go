package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLite statements are compiled once per connection and reused
// (issue 11): without this, database/sql hands every query's text to the
// driver, which compiles it, runs it once and throws it away, and the
// compiling was about 30% of the server's CPU per generated Item. The
// wrapper hides the driver's ExecerContext and QueryerContext, so
// database/sql prepares each statement through PrepareContext and closes
// it when done; PrepareContext hands out a compiled statement of the same
// text that is not in use, and Close puts it back instead of finalizing
// it. SQLite recompiles a kept statement by itself when the schema
// changes (sqlite3_prepare_v2).

// maxCachedStatements bounds the statements kept per connection; when a
// new text would pass it, every idle statement is finalized (the set of
// texts the store uses is far smaller, so this only catches texts built
// per call, such as multi-row INSERTs of varying length).
const maxCachedStatements = 512

// cachingConnector opens modernc SQLite connections that keep their
// compiled statements.
type cachingConnector struct {
	dsn    string
	driver sqlite.Driver
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (c *cachingConnector) Driver() driver.Driver { return &c.driver }

// openCachedSQLite is sql.Open("sqlite", dsn) with statement reuse.
func openCachedSQLite(dsn string) *sql.DB {
	return sql.OpenDB(&cachingConnector{dsn: dsn})
}

// sqliteConn is what the modernc connection offers that the wrapper passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachingConn struct {
	sqliteConn
	idle    map[string]*cachedStmt // compiled, not in use, by text
	kept    int                    // statements owned by the cache (idle or in use)
	caching bool
}

func newCachingConn(c driver.Conn) (driver.Conn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("sqlite: the driver's connection lacks an interface the store needs")
	}
	return &cachingConn{sqliteConn: sc, idle: map[string]*cachedStmt{}, caching: true}, nil
}

// Unwrap lets the driver's helpers (sqlite.Limit) and sql.Conn.Raw users
// reach the driver's connection.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// stopCaching finalizes the idle statements and compiles every later one
// afresh: the raw-query path (pgquery) changes this connection's limits
// for its own statement and must not meet statements compiled before.
func (c *cachingConn) stopCaching() {
	c.caching = false
	c.dropIdle()
}

func (c *cachingConn) dropIdle() {
	for text, st := range c.idle {
		_ = st.stmtWithContext.Close()
		delete(c.idle, text)
		c.kept--
	}
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if st, ok := c.idle[query]; ok {
		delete(c.idle, query)
		return st, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if !c.caching {
		return ds, nil
	}
	if c.kept >= maxCachedStatements {
		c.dropIdle()
	}
	if c.kept >= maxCachedStatements { // all in use (nested queries): do not keep this one
		return ds, nil
	}
	st, ok := ds.(stmtWithContext)
	if !ok {
		return ds, nil
	}
	c.kept++
	return &cachedStmt{stmtWithContext: st, conn: c, text: query}, nil
}

func (c *cachingConn) Close() error {
	c.caching = false
	c.dropIdle()
	return c.sqliteConn.Close()
}

type stmtWithContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a compiled statement the connection keeps; Close returns
// it to the connection (database/sql closes a statement only after its
// rows are closed, and the driver resets it then).
type cachedStmt struct {
	stmtWithContext
	conn *cachingConn
	text string
}

func (s *cachedStmt) Close() error {
	c := s.conn
	if _, taken := c.idle[s.text]; taken || !c.caching {
		c.kept--
		return s.stmtWithContext.Close()
	}
	c.idle[s.text] = s
	return nil
}
