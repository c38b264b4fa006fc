package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	toml "github.com/pelletier/go-toml/v2"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Provider names of the built-in providers, as dlt names them.
const (
	EnvProviderName     = "Environment Variables"
	SecretsProviderName = "secrets.toml"
	ConfigProviderName  = "config.toml"
)

// Provider is one source of values.
type Provider interface {
	// Name is shown in traces and errors.
	Name() string
	// SupportsSecrets is false for providers that must not hold secrets
	// (config.toml): a secret found there is an error.
	SupportsSecrets() bool
	// KeyName renders a path the way this provider spells it.
	KeyName(path []string) string
	// Get returns the value at path and where it came from (a file path or
	// an environment variable name).
	Get(path []string, secret bool) (value any, origin string, ok bool)
}

// EnvProvider reads environment variables named SECTION__KEY in upper case,
// and secrets from files in SecretsDir (dlt's /run/secrets convention).
type EnvProvider struct {
	LookupEnv  func(string) (string, bool)
	SecretsDir string
}

// Name implements Provider.
func (p *EnvProvider) Name() string { return EnvProviderName }

// SupportsSecrets implements Provider.
func (p *EnvProvider) SupportsSecrets() bool { return true }

// KeyName implements Provider: DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD.
func (p *EnvProvider) KeyName(path []string) string { return EnvName(path) }

// EnvName is the environment variable for a path: its parts joined by
// "__" and upper-cased as Python's str.upper() does it, with Unicode's full
// case mapping (dlt looks a key größe up as GRÖSSE, not GRÖßE).
func EnvName(path []string) string { return pyCase(strings.Join(path, "__"), true) }

// SecretFileName is the file name under /run/secrets for a path: the
// environment variable name lower-cased (as Python does) with "_" turned
// into "-".
func SecretFileName(path []string) string {
	return strings.ReplaceAll(pyCase(EnvName(path), false), "_", "-")
}

// pyCase upper- or lower-cases s as Python's str.upper() and str.lower()
// do: Unicode's full case mapping, which can change a string's length
// (ß → SS), where strings.ToUpper maps rune by rune.
func pyCase(s string, upper bool) string {
	ascii := true
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	switch {
	case ascii && upper:
		return strings.ToUpper(s)
	case ascii:
		return strings.ToLower(s)
	case upper:
		return cases.Upper(language.Und).String(s)
	}
	return cases.Lower(language.Und).String(s)
}

// Get implements Provider. A secret's file comes before its environment
// variable, as in dlt. The file is <SecretsDir>/<name> (Docker) or, when
// that is a directory, <SecretsDir>/<name>/<name> (Kubernetes mounts each
// secret as a directory). The line breaks a file ends with are dropped
// (dlt keeps them; docs/dlt-differences.md says why we do not).
func (p *EnvProvider) Get(path []string, secret bool) (any, string, bool) {
	if secret && p.SecretsDir != "" {
		name := SecretFileName(path)
		f := filepath.Join(p.SecretsDir, name)
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			f = filepath.Join(f, name)
		}
		if b, err := os.ReadFile(f); err == nil {
			return strings.TrimRight(string(b), "\r\n"), f, true
		}
	}
	name := EnvName(path)
	if v, ok := p.LookupEnv(name); ok {
		return v, "env " + name, true
	}
	return nil, "", false
}

// TomlProvider is the deep merge of several TOML files; a file earlier in the
// list wins key by key, tables merge recursively, any non-table value replaces.
type TomlProvider struct {
	name    string
	secrets bool
	files   []FileStatus
	tree    map[string]any
	origin  map[string]string // joined path -> file that set the leaf, or the last file that defined the table
	content bool              // a file had at least one byte
}

// FileStatus says whether one probed file exists.
type FileStatus struct {
	Path   string
	Exists bool
}

// FileError is a TOML file that cannot be read or parsed. Line and Column are
// 1-based and zero when unknown.
type FileError struct {
	Path         string
	Line, Column int
	Err          error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %v", e.Path, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// NewTomlProvider reads files in order (missing files are skipped) and merges
// them. secrets says whether the provider may hold secrets.
func NewTomlProvider(name string, secrets bool, files []string) (*TomlProvider, error) {
	p := &TomlProvider{name: name, secrets: secrets, tree: map[string]any{}, origin: map[string]string{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			p.files = append(p.files, FileStatus{Path: f})
			continue
		}
		if err != nil {
			return nil, &FileError{Path: f, Err: err}
		}
		p.files = append(p.files, FileStatus{Path: f, Exists: true})
		p.content = p.content || len(b) > 0
		doc, err := ParseTOML(f, b)
		if err != nil {
			return nil, err
		}
		p.merge(p.tree, doc, nil, f)
	}
	return p, nil
}

// ParseTOML parses one TOML document, returning a *FileError with line and
// column on failure. Line ends are read as dlt reads them (pyText).
func ParseTOML(path string, b []byte) (map[string]any, error) {
	doc := map[string]any{}
	if err := toml.Unmarshal(pyText(b), &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			msg := strings.TrimPrefix(de.Error(), "toml: ")
			return nil, &FileError{Path: path, Line: row, Column: col, Err: errors.New(msg)}
		}
		return nil, &FileError{Path: path, Err: err}
	}
	return doc, nil
}

// pyText is b as Python reads a text file, with universal newlines: "\r\n"
// and a lone "\r" become "\n". dlt reads its TOML files so; without this a
// multi-line string in a file saved with Windows line ends would keep its
// "\r" here and lose it in dlt.
func pyText(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

func (p *TomlProvider) merge(dst, src map[string]any, prefix []string, file string) {
	for k, v := range src {
		path := append(append([]string{}, prefix...), k)
		cur, exists := dst[k]
		if !exists {
			if m, ok := v.(map[string]any); ok {
				sub := map[string]any{}
				dst[k] = sub
				p.origin[pathKey(path)] = file
				p.merge(sub, m, path, file)
				continue
			}
			dst[k] = v
			p.origin[pathKey(path)] = file
			continue
		}
		cm, ok1 := cur.(map[string]any)
		sm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			// A table merged from several files is said to come from
			// the last (least specific) of them, as dlt says.
			p.origin[pathKey(path)] = file
			p.merge(cm, sm, path, file)
		}
		// otherwise the earlier file's value stands
	}
}

func pathKey(path []string) string { return strings.Join(path, "\x00") }

// Name implements Provider.
func (p *TomlProvider) Name() string { return p.name }

// SupportsSecrets implements Provider.
func (p *TomlProvider) SupportsSecrets() bool { return p.secrets }

// KeyName implements Provider: a dotted TOML key.
func (p *TomlProvider) KeyName(path []string) string { return strings.Join(path, ".") }

// Files lists the files this provider probed, in precedence order.
func (p *TomlProvider) Files() []FileStatus { return p.files }

// Empty says the provider has nothing: no file, or only files of zero
// bytes (a file with only a comment or a blank line counts as something, as
// for dlt). dlt does not ask such a provider nor list it in its lookup
// traces; this resolver still lists it, so `config explain` and a missing
// value's error show where a value could go.
func (p *TomlProvider) Empty() bool { return !p.content && len(p.tree) == 0 }

// Get implements Provider.
func (p *TomlProvider) Get(path []string, _ bool) (any, string, bool) {
	var cur any = p.tree
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, "", false
		}
		cur, ok = m[k]
		if !ok {
			return nil, "", false
		}
	}
	if len(path) == 0 {
		return nil, "", false
	}
	return cur, p.origin[pathKey(path)], true
}
