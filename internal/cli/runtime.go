package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/workspace"
)

// runtimeSettings is how the CLI reaches the control plane (DESIGN §3.4).
type runtimeSettings struct {
	BaseURL string
	// Token is runtime.api_key when set (CI), else the login token.
	Token       string
	TokenOrigin string // where Token came from, for messages
	// LoggedInTo is the server the saved login token belongs to when it is
	// not BaseURL; the token is then not sent anywhere else.
	LoggedInTo string
}

// runtimeResolver is the workspace's resolver inside a workspace and the
// environment plus the user's global ~/.dlt files outside one: login works
// from any directory.
func (f *Factory) runtimeResolver() (*config.Resolver, error) {
	var nf *workspace.NotFoundError
	if _, err := f.Workspace(); err == nil {
		c, err := f.Open()
		if err != nil {
			return nil, err
		}
		return c.resolver, nil
	} else if !errors.As(err, &nf) {
		return nil, err
	}
	return config.New(config.Options{GlobalDir: f.Env.GlobalDir(), LookupEnv: f.Env.LookupEnv, Profile: workspace.ProfileDev})
}

func (f *Factory) runtimeSettings() (runtimeSettings, error) {
	r, err := f.runtimeResolver()
	if err != nil {
		return runtimeSettings{}, err
	}
	s := runtimeSettings{BaseURL: platform.DefaultBaseURL}
	if v, ok, err := lookupString(r, "runtime.api_base_url"); err != nil {
		return s, err
	} else if ok {
		s.BaseURL = v
	}
	for _, key := range []string{"runtime.api_key", "runtime.auth_token"} {
		res, err := r.Lookup(mustKey(key))
		if err != nil {
			return s, err
		}
		if res.Found {
			s.Token, s.TokenOrigin = fmt.Sprint(res.Value), key+" from "+res.Winner.Origin
			break
		}
	}
	if strings.HasPrefix(s.TokenOrigin, "runtime.auth_token") {
		// A login token is only good for the server that issued it: if
		// api_base_url now names another one, the token stays home.
		issuer, ok, err := lookupString(r, "runtime.auth_base_url")
		if err != nil {
			return s, err
		}
		if ok && strings.TrimSuffix(issuer, "/") != strings.TrimSuffix(s.BaseURL, "/") {
			s.Token, s.TokenOrigin, s.LoggedInTo = "", "", issuer
		}
	}
	return s, nil
}

func lookupString(r *config.Resolver, key string) (string, bool, error) {
	res, err := r.Lookup(mustKey(key))
	if err != nil || !res.Found {
		return "", false, err
	}
	v, ok := res.Value.(string)
	if !ok || v == "" {
		return "", false, fmt.Errorf("%s in %s must be a non-empty string", key, res.Winner.Origin)
	}
	return v, true, nil
}

func mustKey(s string) config.Key {
	k, err := config.ParseKey(s)
	if err != nil {
		panic(err) // constant keys only
	}
	return k
}

// globalSecretsPath is ~/.dlt/secrets.toml, where login keeps its token
// (never in the workspace, so it is not committed or deployed).
func (f *Factory) globalSecretsPath() (string, error) {
	d := f.Env.GlobalDir()
	if d == "" {
		return "", errors.New("no home directory to keep the login token in; set HOME, or use RUNTIME__API_KEY instead")
	}
	return filepath.Join(d, "secrets.toml"), nil
}

// editGlobalSecrets applies edit to ~/.dlt/secrets.toml, keeping everything
// else in it byte for byte, and writes it atomically with mode 0600.
func (f *Factory) editGlobalSecrets(edit func(doc []byte) ([]byte, error)) (string, error) {
	path, err := f.globalSecretsPath()
	if err != nil {
		return "", err
	}
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return path, fmt.Errorf("read %s: %w", path, err)
	}
	out, err := edit(doc)
	if err != nil {
		return path, tomlEditErr(path, "edit "+path, err)
	}
	if string(out) == string(doc) {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return path, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.Write(path, out, 0o600); err != nil {
		return path, fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// readTOMLString reads one string value from a TOML document ("" when the
// document or the key is missing).
func readTOMLString(doc []byte, path ...string) (string, error) {
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return "", err
	}
	var cur any = m
	for _, k := range path {
		t, ok := cur.(map[string]any)
		if !ok {
			return "", nil
		}
		cur = t[k]
	}
	v, _ := cur.(string)
	return v, nil
}
