package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

type pgCredentials struct {
	Database string `config:"database,required"`
	Password string `config:"password,secret,required"`
	Username string `config:"username,required"`
	Host     string `config:"host,required"`
	Port     int    `config:"port"`
}

func (c *pgCredentials) ParseNative(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		c.Port, _ = strconv.Atoi(p)
	}
	c.Database = strings.TrimPrefix(u.Path, "/")
	return nil
}

type destConfig struct {
	DestinationType string            `config:"destination_type"`
	Credentials     pgCredentials     `config:"credentials"`
	Labels          []string          `config:"labels"`
	Headers         map[string]string `config:"headers"`
	Timeout         time.Duration     `config:"timeout"`
	Parallel        bool              `config:"parallel"`
	Ratio           float64           `config:"ratio"`
}

func TestDecode(t *testing.T) {
	ws, home := fixture(t, map[string]string{
		"ws/config.toml":  "[destination.warehouse]\ndestination_type = \"postgres\"\nlabels = [\"a\", \"b\"]\ntimeout = \"30s\"\n[destination.warehouse.credentials]\nhost = \"db.local\"\ndatabase = \"dlt\"\nport = 5433\n",
		"ws/secrets.toml": "[destination.warehouse.credentials]\npassword = \"pw\"\nusername = \"loader\"\n",
	})
	env := map[string]string{
		"DESTINATION__WAREHOUSE__HEADERS":  `{"X-Team": "data"}`,
		"DESTINATION__WAREHOUSE__PARALLEL": "true",
		"DESTINATION__RATIO":               "0.5",
	}
	r, _ := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(env)})
	cfg := destConfig{Credentials: pgCredentials{Port: 5432}}
	if err := r.Decode("", []string{"destination", "warehouse"}, &cfg); err != nil {
		t.Fatal(err)
	}
	want := destConfig{
		DestinationType: "postgres",
		Credentials:     pgCredentials{Database: "dlt", Password: "pw", Username: "loader", Host: "db.local", Port: 5433},
		Labels:          []string{"a", "b"},
		Headers:         map[string]string{"X-Team": "data"},
		Timeout:         30 * time.Second,
		Parallel:        true,
		Ratio:           0.5,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestDecodeJSONEnvList(t *testing.T) {
	r := &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(map[string]string{
		"SOURCES__GITHUB__LABELS": `["bug", "docs"]`,
		"SOURCES__GITHUB__LIMITS": `{"per_page": 100, "pages": 2}`,
	})}}}
	var cfg struct {
		Labels []string         `config:"labels"`
		Limits map[string]int64 `config:"limits"`
	}
	if err := r.Decode("", []string{"sources", "github"}, &cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Labels, []string{"bug", "docs"}) || cfg.Limits["per_page"] != 100 || cfg.Limits["pages"] != 2 {
		t.Errorf("got %+v", cfg)
	}
	r = &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(map[string]string{"SOURCES__GITHUB__LABELS": "bug,docs"})}}}
	err := r.Decode("", []string{"sources", "github"}, &cfg)
	if err == nil || !strings.Contains(err.Error(), "env SOURCES__GITHUB__LABELS") || !strings.Contains(err.Error(), "JSON") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestDecodeNativeConnectionString(t *testing.T) {
	ws, home := fixture(t, map[string]string{
		"ws/secrets.toml": "[sources.shop_db]\ncredentials = \"postgresql://loader:s3cret@localhost:5432/shop\"\n",
	})
	r, _ := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	var cfg struct {
		Credentials pgCredentials `config:"credentials"`
	}
	if err := r.Decode("", []string{"sources", "shop_db"}, &cfg); err != nil {
		t.Fatal(err)
	}
	want := pgCredentials{Database: "shop", Password: "s3cret", Username: "loader", Host: "localhost", Port: 5432}
	if cfg.Credentials != want {
		t.Errorf("got %+v", cfg.Credentials)
	}
}

func TestDecodeMissingRequiredListsAll(t *testing.T) {
	r := &Resolver{Profile: "dev", Providers: []Provider{&EnvProvider{LookupEnv: envOf(map[string]string{"DESTINATION__WAREHOUSE__CREDENTIALS__HOST": "h", "DESTINATION__WAREHOUSE__CREDENTIALS__DATABASE": "d"})}}}
	var cfg destConfig
	err := r.Decode("", []string{"destination", "warehouse"}, &cfg)
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	if len(me.Keys) != 2 || me.Keys[0].String() != "destination.warehouse.credentials.password" || me.Keys[1].String() != "destination.warehouse.credentials.username" {
		t.Errorf("keys = %v", me.Keys)
	}
}

func TestDecodeTypeErrorNamesKeyAndSource(t *testing.T) {
	r := &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(map[string]string{"DESTINATION__WAREHOUSE__CREDENTIALS__PORT": "five"})}}}
	var cfg destConfig
	err := r.Decode("", []string{"destination", "warehouse"}, &cfg)
	want := fmt.Sprintf("invalid value for %s from env %s: want an integer, got %q", "destination.warehouse.credentials.port", "DESTINATION__WAREHOUSE__CREDENTIALS__PORT", "five")
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
