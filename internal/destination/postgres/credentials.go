package postgres

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Credentials are dlt's ConnectionStringCredentials for postgres: given as
// fields ([destination.x.credentials] host = …) or as one connection string
// (credentials = "postgresql://loader:pw@localhost:5432/dlt_data").
type Credentials struct {
	Database       string `config:"database,required"`
	Username       string `config:"username,required"`
	Password       string `config:"password,secret"`
	Host           string `config:"host,required"`
	Port           int    `config:"port"`
	ConnectTimeout int    `config:"connect_timeout"`
	SSLMode        string `config:"sslmode"`
}

// ParseNative implements config.NativeParser.
func (c *Credentials) ParseNative(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgresql" && u.Scheme != "postgres") {
		return fmt.Errorf("want a connection string postgresql://user:password@host:port/database")
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("port %q is not a number", p)
		}
		c.Port = n
	}
	c.Database = strings.TrimPrefix(u.Path, "/")
	if v := u.Query().Get("sslmode"); v != "" {
		c.SSLMode = v
	}
	if v := u.Query().Get("connect_timeout"); v != "" {
		c.ConnectTimeout, _ = strconv.Atoi(v)
	}
	return nil
}

// DSN is the connection string for pgx.
func (c Credentials) DSN() string {
	u := url.URL{Scheme: "postgresql", Host: c.Host, Path: "/" + c.Database}
	if c.Port != 0 {
		u.Host = c.Host + ":" + strconv.Itoa(c.Port)
	}
	if c.Password != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	} else {
		u.User = url.User(c.Username)
	}
	q := url.Values{}
	if c.SSLMode != "" {
		q.Set("sslmode", c.SSLMode)
	}
	if c.ConnectTimeout > 0 {
		q.Set("connect_timeout", strconv.Itoa(c.ConnectTimeout))
	}
	u.RawQuery = q.Encode()
	return u.String()
}
