package duckdb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MotherDuckCredentials are dlt's motherduck credentials: a database and a
// service token (password), or one connection string
// "md:my_db?motherduck_token=…".
type MotherDuckCredentials struct {
	Database string `config:"database"`
	Password string `config:"password,secret"`
}

// ParseNative implements config.NativeParser.
func (c *MotherDuckCredentials) ParseNative(s string) error {
	if !strings.HasPrefix(s, "md:") && !strings.HasPrefix(s, "motherduck:") {
		return fmt.Errorf("want md:<database>?motherduck_token=<token>")
	}
	rest := s[strings.Index(s, ":")+1:]
	db, query, _ := strings.Cut(rest, "?")
	c.Database = db
	if q, err := url.ParseQuery(query); err == nil {
		if t := q.Get("motherduck_token"); t != "" {
			c.Password = t
		}
	}
	return nil
}

// DSN is DuckDB's connection string for MotherDuck.
func (c MotherDuckCredentials) DSN() (string, error) {
	if c.Password == "" {
		return "", errors.New("motherduck: no token: set credentials.password (or motherduck_token in the connection string) in secrets.toml")
	}
	db := c.Database
	if db == "" {
		db = "my_db"
	}
	return "md:" + db + "?motherduck_token=" + url.QueryEscape(c.Password), nil
}

// OpenMotherDuck connects to MotherDuck through DuckDB. This needs the
// network and DuckDB's motherduck extension; when either is missing the
// error says so plainly.
func OpenMotherDuck(c MotherDuckCredentials, dataset string) (*Client, error) {
	dsn, err := c.DSN()
	if err != nil {
		return nil, err
	}
	cl, err := Open(dsn, dataset)
	if err == nil {
		// Opening is lazy in places; touch the service now.
		if _, err = cl.DB().Exec("SELECT 1"); err == nil {
			return cl, nil
		}
		_ = cl.Close()
	}
	msg := err.Error()
	if tok := url.QueryEscape(c.Password); tok != "" {
		msg = strings.ReplaceAll(msg, tok, "****")
	}
	return nil, fmt.Errorf("motherduck: could not reach MotherDuck for database %q: the service is unreachable from this machine or DuckDB could not load its motherduck extension (%s)", c.Database, msg)
}
