package config

import (
	"os"
	"path/filepath"
)

// Options say where a Resolver finds its values.
type Options struct {
	// ConfigDir is the workspace's .dlt directory; empty outside a workspace.
	ConfigDir string
	// GlobalDir is the user's ~/.dlt; empty to skip.
	GlobalDir string
	// Profile selects <profile>.config.toml and <profile>.secrets.toml; it
	// is also the profile named in errors.
	Profile string
	// FileProfile, when set, is used for file names instead of Profile (the
	// access profile falls back to prod's files).
	FileProfile string
	// LookupEnv reads the environment (os.LookupEnv in production).
	LookupEnv func(string) (string, bool)
	// SecretsDir holds one file per secret (/run/secrets); empty to skip.
	SecretsDir string
}

// DefaultSecretsDir is where container runtimes mount secrets.
const DefaultSecretsDir = "/run/secrets"

// ProfileFiles returns the files of one kind ("config" or "secrets") in
// precedence order: workspace profile file, workspace file, global profile
// file, global file.
func ProfileFiles(configDir, globalDir, profile, kind string) []string {
	var out []string
	for _, dir := range []string{configDir, globalDir} {
		if dir == "" {
			continue
		}
		if profile != "" {
			out = append(out, filepath.Join(dir, profile+"."+kind+".toml"))
		}
		out = append(out, filepath.Join(dir, kind+".toml"))
	}
	return out
}

// New builds the standard provider chain: environment, secrets.toml,
// config.toml. It fails with a *FileError naming file, line and column when a
// file does not parse.
func New(o Options) (*Resolver, error) {
	fp := o.FileProfile
	if fp == "" {
		fp = o.Profile
	}
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	secrets, err := NewTomlProvider(SecretsProviderName, true, ProfileFiles(o.ConfigDir, o.GlobalDir, fp, "secrets"))
	if err != nil {
		return nil, err
	}
	cfg, err := NewTomlProvider(ConfigProviderName, false, ProfileFiles(o.ConfigDir, o.GlobalDir, fp, "config"))
	if err != nil {
		return nil, err
	}
	return &Resolver{
		Providers: []Provider{&EnvProvider{LookupEnv: lookup, SecretsDir: o.SecretsDir}, secrets, cfg},
		Profile:   o.Profile,
	}, nil
}

// Files lists every TOML file the resolver probed, in precedence order.
func (r *Resolver) Files() []FileStatus {
	var out []FileStatus
	for _, p := range r.Providers {
		if tp, ok := p.(*TomlProvider); ok {
			out = append(out, tp.Files()...)
		}
	}
	return out
}
