package dltcompat

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// GenerateConfigCases makes n configuration cases from a seed (the same
// seed, the same cases). Each case has a handful of lookups shaped like
// dlt's configuration specs (runtime.*, destination credentials, sources
// with their compact form, jobs, data_writer, plain keys, whole tables)
// and places values for them where dlt looks (every section fallback,
// with and without the pipeline) and where it must not (a popped
// __section__, another pipeline, another profile's files, lower-case
// variables): in the workspace's and the global folder's config.toml and
// secrets.toml and their profile files, in environment variables and in
// secret files, flat or in the Kubernetes <dir>/<name>/<name> layout.
// Values take every TOML type.
func GenerateConfigCases(seed uint64, n int) []ConfigCase {
	rng := rand.New(rand.NewPCG(seed, seed^0x51ed270b27f3a9c5))
	out := make([]ConfigCase, 0, n)
	for i := range n {
		g := &configGen{rng: rng, files: map[string]map[string]any{}, env: map[string]string{}, secrets: map[string]string{}}
		out = append(out, g.generate(fmt.Sprintf("cfg_%d_%03d", seed, i)))
	}
	return out
}

// configGen builds one case.
type configGen struct {
	rng     *rand.Rand
	profile string
	files   map[string]map[string]any // file -> TOML tree (leaves are tomlLeaf)
	env     map[string]string
	secrets map[string]string // path under the case dir -> content
	serial  int
}

// tomlLeaf is a TOML value, already written out.
type tomlLeaf string

// tomlAoT is an array of tables, written as [[path]] sections (of plain
// values only).
type tomlAoT []map[string]any

// configProfiles are the profiles the generator picks from: dlt's
// built-in ones (dev twice: it is the default) and one of a user's own.
func configProfiles() []string { return []string{"dev", "dev", "prod", "tests", "staging"} }

func (g *configGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *configGen) next() int { g.serial++; return g.serial }

func (g *configGen) generate(name string) ConfigCase {
	g.profile = g.pick(configProfiles()...)
	var lookups []ConfigLookup
	for range 3 + g.rng.IntN(5) {
		lk := g.lookup()
		for range g.rng.IntN(5) {
			g.place(lk)
		}
		lookups = append(lookups, lk)
	}
	c := ConfigCase{Name: name, Profile: g.profile, Files: map[string]string{}, Env: g.env, Lookups: lookups}
	names := make([]string, 0, len(g.files))
	for f := range g.files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		var b strings.Builder
		g.emitTable(&b, nil, g.files[f])
		body := b.String()
		if g.rng.IntN(8) == 0 {
			body = strings.ReplaceAll(body, "\n", "\r\n")
		}
		c.Files[f] = body
	}
	if g.rng.IntN(6) == 0 { // a file with nothing in it, or only a comment
		f := g.pick("ws/.dlt/", "home/.dlt/") + g.pick("", g.profile+".") + g.pick("config", "secrets") + ".toml"
		if _, ok := c.Files[f]; !ok {
			c.Files[f] = g.pick("", "\n", "# nothing here yet\n")
		}
	}
	for p, body := range g.secrets {
		c.Files[p] = body
	}
	return c
}

// secretNames are the field names the generator's specs type as secrets
// (TSecretValue in dlt), which ParseKey must recognise as secrets too.
func secretNames() []string {
	return []string{"password", "access_token", "api_key", "client_secret", "credentials"}
}

// lookup makes a key shaped like a field of one of dlt's specs.
func (g *configGen) lookup() ConfigLookup {
	var lk ConfigLookup
	dest := g.pick("warehouse", "pg", "duckdb")
	srcName := func() string {
		return g.pick("per_page", "start_date", "enabled", "ratio", "labels", "access_token", "api_key", "window")
	}
	switch g.rng.IntN(16) {
	case 0, 1: // RuntimeConfiguration: __section__ runtime, never popped
		lk.Section, lk.Name = "runtime", g.pick("log_level", "request_timeout", "dlthub_telemetry", "http_show_error_body")
		if g.rng.IntN(4) == 0 { // the workspace's runtime configuration
			lk.Explicit = []string{"workspace"}
		}
	case 2, 3: // a destination's credentials fields
		lk.Explicit, lk.Section = []string{"destination", dest}, "credentials"
		lk.Name = g.pick("password", "host", "port", "database", "username")
	case 4: // a destination's credentials as one value (a connection string)
		lk.Explicit, lk.Name = []string{"destination", dest}, "credentials"
	case 5:
		lk.Explicit, lk.Name = []string{"destination", dest}, g.pick("dataset_name", "destination_type", "bucket_url")
	case 6, 7: // a source's argument: sources.<module>.<source>
		lk.Explicit, lk.Name = []string{"sources", g.pick("github", "mod"), g.pick("github", "repos")}, srcName()
	case 8:
		lk.Explicit, lk.Name = []string{"sources", g.pick("github", "repos")}, srcName()
	case 9: // a source's credentials
		lk.Explicit, lk.Section = []string{"sources", g.pick("github", "mod"), g.pick("github", "repos")}, "credentials"
		lk.Name = g.pick("access_token", "client_id", "password")
	case 10: // a job's setting: jobs.<section>.<name> has a compact form too
		lk.Explicit, lk.Name = []string{"jobs", g.pick("ingest", "batch"), g.pick("github", "daily")}, g.pick("limit", "schedule", "api_key")
	case 11: // plain keys and generic sections
		lk.Explicit = [][]string{nil, {"extract"}, {"normalize"}, {"load", "parallel"}}[g.rng.IntN(4)]
		lk.Name = g.pick("workers", "timeout", "per_page", "api_key")
	case 12: // BufferedDataWriterConfiguration: __section__ data_writer
		lk.Explicit = [][]string{nil, {"normalize"}, {"extract"}}[g.rng.IntN(3)]
		lk.Section, lk.Name = "data_writer", g.pick("buffer_max_items", "file_max_items", "disable_compression")
	case 13: // more than three sections: the compact form still applies
		lk.Explicit, lk.Name = []string{"sources", "mod", g.pick("github", "repos"), "res"}, srcName()
	default: // a whole table
		lk.Explicit = [][]string{{"sources"}, {"destination"}, nil}[g.rng.IntN(3)]
		lk.Name = g.pick("github", "repos", dest)
	}
	lk.Secret = slices.Contains(secretNames(), lk.Name)
	switch g.rng.IntN(20) {
	case 0: // TOML keys are case-sensitive, variable names upper-cased
		lk.Name = strings.ToUpper(lk.Name[:1]) + lk.Name[1:]
	case 1: // upper-casing beyond ASCII: ß becomes SS in the variable's name
		lk.Name, lk.Secret = g.pick("größe", "café", "straße_nr"), false
	}
	if g.rng.IntN(5) < 2 {
		lk.Pipeline = g.pick("pipe", "pipe", "pipe", "My-Pipe")
	}
	parts := append(append([]string{}, lk.Explicit...), lk.Section)
	parts = append(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), lk.Name)
	lk.Key = strings.Join(parts, ".")
	if lk.Explicit == nil {
		lk.Explicit = []string{}
	}
	return lk
}

// dltPaths are the section paths dlt tries for a lookup in one pass, most
// specific first (resolve._build_section_lookup_paths), each ending with
// the key.
func dltPaths(lk ConfigLookup) [][]string {
	withSection := func(ns []string) []string {
		p := append([]string{}, ns...)
		if lk.Section != "" {
			p = append(p, lk.Section)
		}
		return p
	}
	var base [][]string
	ns := append([]string{}, lk.Explicit...)
	for {
		base = append(base, withSection(ns))
		if len(ns) == 0 {
			break
		}
		ns = ns[:len(ns)-1]
	}
	e := lk.Explicit
	if len(e) >= 3 && (e[0] == "sources" || e[0] == "jobs") && e[1] != e[2] {
		compact := withSection([]string{e[0], e[2]})
		if !slices.ContainsFunc(base, func(p []string) bool { return slices.Equal(p, compact) }) {
			base = slices.Insert(base, 2, compact)
		}
	}
	for i := range base {
		base[i] = append(base[i], lk.Name)
	}
	return base
}

// place puts one value for lk somewhere: most often on a path dlt tries,
// sometimes on one it must not find.
func (g *configGen) place(lk ConfigLookup) {
	paths := dltPaths(lk)
	path := paths[g.rng.IntN(len(paths))]
	switch g.rng.IntN(10) {
	case 0: // a decoy
		switch {
		case lk.Section != "" && g.rng.IntN(2) == 0: // the __section__ popped
			path = slices.DeleteFunc(append([]string{}, path...), func(s string) bool { return s == lk.Section })
		case g.rng.IntN(2) == 0:
			path = append([]string{"other_pipe"}, path...)
		default:
			path = append([]string{}, path...)
			path[0] = strings.ToUpper(path[0][:1]) + path[0][1:]
		}
	case 1, 2, 3, 4:
		if lk.Pipeline != "" {
			path = append([]string{lk.Pipeline}, path...)
		}
	}
	switch r := g.rng.IntN(100); {
	case r < 28:
		g.env[envName(path)] = g.envValue()
	case r < 31: // a variable dlt does not read: names are upper case
		g.env[strings.ToLower(envName(path))] = g.envValue()
	case r < 44:
		name := strings.ReplaceAll(cases.Lower(language.Und).String(envName(path)), "_", "-")
		if g.hasSecret(name) {
			return // a name is one file or one directory
		}
		switch g.rng.IntN(8) {
		case 0: // a directory without the Kubernetes file in it
			g.secrets["secrets/"+name+"/other"] = "not it"
		case 1, 2, 3:
			g.secrets["secrets/"+name+"/"+name] = g.secretValue()
		default:
			g.secrets["secrets/"+name] = g.secretValue()
		}
	default:
		g.placeTOML(lk, path)
	}
}

// hasSecret says whether the secrets directory has a file or a directory
// of that name already.
func (g *configGen) hasSecret(name string) bool {
	for p := range g.secrets {
		if p == "secrets/"+name || strings.HasPrefix(p, "secrets/"+name+"/") {
			return true
		}
	}
	return false
}

// envName is dlt's variable name for a path: Python's str.upper() of the
// parts joined by "__" (full case mapping: ß becomes SS).
func envName(path []string) string {
	return cases.Upper(language.Und).String(strings.Join(path, "__"))
}

// placeTOML writes a value at path into one of the TOML files: the active
// profile's, the plain ones or another profile's (which must not be read),
// in the workspace or the global folder.
func (g *configGen) placeTOML(lk ConfigLookup, path []string) {
	kind := g.pick("config", "secrets")
	if lk.Secret && g.rng.IntN(6) != 0 {
		kind = "secrets" // a secret in config.toml is an error in both: not too often
	}
	prefix := ""
	switch g.rng.IntN(7) {
	case 0, 1, 2:
		prefix = g.profile + "."
	case 3:
		for prefix == "" || prefix == g.profile+"." {
			prefix = g.pick(configProfiles()...) + "."
		}
	}
	dir := g.pick("ws/.dlt/", "ws/.dlt/", "home/.dlt/")
	file := dir + prefix + kind + ".toml"
	tree := g.files[file]
	if tree == nil {
		tree = map[string]any{}
		g.files[file] = tree
	}
	if g.rng.IntN(12) == 0 && len(path) > 1 {
		// a value where the lookup wants a table, shadowing deeper keys
		// merged from other files
		path = path[:1+g.rng.IntN(len(path)-1)]
	}
	var v any = g.tomlValue(0)
	switch g.rng.IntN(12) {
	case 0, 1:
		v = g.tomlTable(1)
	case 2: // [[path]] headers: a list of tables
		aot := make(tomlAoT, 1+g.rng.IntN(2))
		for i := range aot {
			aot[i] = map[string]any{"n": tomlLeaf(fmt.Sprint(i)), "per_page": g.tomlValue(1)}
		}
		v = aot
	}
	putTOML(tree, path, v)
}

// putTOML sets path in tree unless that would clash with what the file
// already has (TOML forbids it); files differ, so clashes between files
// are left to the merge.
func putTOML(tree map[string]any, path []string, v any) {
	cur := tree
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k]
		if !ok {
			m := map[string]any{}
			cur[k] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return
		}
		cur = m
	}
	if _, ok := cur[path[len(path)-1]]; !ok {
		cur[path[len(path)-1]] = v
	}
}

func (g *configGen) envValue() string {
	n := g.next()
	return []string{
		fmt.Sprintf("env-%d", n), "", "5", "true", "1.5", `["a", 1]`, `{"a": 1}`, fmt.Sprintf("  spaced %d  ", n), "ünï-" + fmt.Sprint(n),
	}[g.rng.IntN(9)]
}

func (g *configGen) secretValue() string {
	v := fmt.Sprintf("file-%d", g.next())
	return v + []string{"", "", "\n", "\r\n", "\n\n", "  \n"}[g.rng.IntN(6)]
}

// tomlValue is a random TOML value of any type but a table.
func (g *configGen) tomlValue(depth int) tomlLeaf {
	n := g.next()
	switch g.rng.IntN(14) {
	case 0:
		return tomlLeaf(fmt.Sprintf(`"s-%d"`, n))
	case 1:
		return tomlLeaf(g.pick(`"with \"quotes\" and \\ backslash"`, `"tab\there"`, `"ünï\u00e9"`, `'literal\n'`, "\"\"\"\nmulti\nline\"\"\"", `""`, `"esc \e \x41 \U0001F600 \b\f"`))
	case 2:
		return tomlLeaf(fmt.Sprint(n*7 - 40))
	case 3:
		return tomlLeaf(g.pick("0x1F", "0o17", "0b101", "1_000", "+42", "-9223372036854775808", "9223372036854775807"))
	case 4:
		return tomlLeaf(g.pick("3.5", "-0.25", "1e3", "6.02e23", "5.0", "1e-7", "0.1"))
	case 5:
		return tomlLeaf(g.pick("inf", "-inf", "nan", "-0.0", "+inf"))
	case 6:
		return tomlLeaf(g.pick("true", "false"))
	case 7:
		if g.rng.IntN(25) == 0 {
			return "2023-02-29" // no such day: both must refuse the file
		}
		return tomlLeaf(fmt.Sprintf("19%02d-0%d-1%d", 50+n%50, 1+n%9, n%10))
	case 8:
		return tomlLeaf(g.pick("1979-05-27T07:32:00", "1979-05-27T00:32:00.999999", "2024-02-29 23:59:59"))
	case 9:
		return tomlLeaf(g.pick("1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.5+05:30", "2024-01-01 00:00:00+00:00", "1979-05-27t07:32:00.1234567z"))
	case 10:
		return tomlLeaf(g.pick("07:32:00", "00:32:00.999999", "23:59:59.5", "07:32"))
	case 11, 12:
		if depth > 1 {
			return tomlLeaf(fmt.Sprint(n))
		}
		items := make([]string, g.rng.IntN(4))
		for i := range items {
			items[i] = string(g.tomlValue(depth + 1))
		}
		return tomlLeaf("[" + strings.Join(items, ", ") + "]")
	default:
		if depth > 1 {
			return tomlLeaf(fmt.Sprint(n))
		}
		t := g.tomlTable(depth + 1)
		return tomlLeaf(inlineTable(t))
	}
}

// tomlTable is a random table of a few keys.
func (g *configGen) tomlTable(depth int) map[string]any {
	t := map[string]any{}
	for range g.rng.IntN(4) {
		t[g.pick("a", "b", "host", "per_page", "password", "nested")] = g.tomlValue(depth + 1)
	}
	return t
}

// inlineTable writes a table as {k = v, …} in key order.
func inlineTable(t map[string]any) string {
	keys := sortedKeys(t)
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch v := t[k].(type) {
		case tomlLeaf:
			parts[i] = tomlKey(k) + " = " + string(v)
		case map[string]any:
			parts[i] = tomlKey(k) + " = " + inlineTable(v)
		case tomlAoT:
			parts[i] = tomlKey(k) + " = " + inlineAoT(v)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// inlineAoT writes a list of tables as [{…}, …].
func inlineAoT(l tomlAoT) string {
	parts := make([]string, len(l))
	for i, t := range l {
		parts[i] = inlineTable(t)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// tomlKey writes a key bare when TOML allows it, else quoted (größe).
func tomlKey(k string) string {
	bare := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
	}
	for _, r := range k {
		if !bare(r) {
			return strconv.Quote(k)
		}
	}
	return k
}

// dottedKey writes a table's path for a [header].
func dottedKey(path []string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		parts[i] = tomlKey(k)
	}
	return strings.Join(parts, ".")
}

func sortedKeys(t map[string]any) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// emitTable writes a table's keys, then its sub-tables: most under their
// own [header], some as dotted keys or inline tables, as people write
// them.
func (g *configGen) emitTable(b *strings.Builder, path []string, t map[string]any) {
	var headed, aots []string
	for _, k := range sortedKeys(t) {
		switch v := t[k].(type) {
		case tomlLeaf:
			fmt.Fprintf(b, "%s = %s\n", tomlKey(k), v)
		case tomlAoT:
			aots = append(aots, k)
		case map[string]any:
			switch g.rng.IntN(10) {
			case 0:
				fmt.Fprintf(b, "%s = %s\n", tomlKey(k), inlineTable(v))
			case 1:
				emitDotted(b, tomlKey(k), v)
			default:
				headed = append(headed, k)
			}
		}
	}
	for _, k := range headed {
		sub := append(append([]string{}, path...), k)
		fmt.Fprintf(b, "\n[%s]\n", dottedKey(sub))
		g.emitTable(b, sub, t[k].(map[string]any))
	}
	for _, k := range aots {
		for _, elem := range t[k].(tomlAoT) {
			fmt.Fprintf(b, "\n[[%s]]\n", dottedKey(append(append([]string{}, path...), k)))
			for _, ek := range sortedKeys(elem) {
				fmt.Fprintf(b, "%s = %s\n", tomlKey(ek), elem[ek])
			}
		}
	}
}

// emitDotted writes a table as dotted keys (a.b.c = v).
func emitDotted(b *strings.Builder, prefix string, t map[string]any) {
	if len(t) == 0 {
		fmt.Fprintf(b, "%s = {}\n", prefix)
		return
	}
	for _, k := range sortedKeys(t) {
		switch v := t[k].(type) {
		case tomlLeaf:
			fmt.Fprintf(b, "%s.%s = %s\n", prefix, tomlKey(k), v)
		case map[string]any:
			emitDotted(b, prefix+"."+tomlKey(k), v)
		case tomlAoT:
			fmt.Fprintf(b, "%s.%s = %s\n", prefix, tomlKey(k), inlineAoT(v))
		}
	}
}
