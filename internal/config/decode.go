package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// NativeParser is implemented by configuration structs that can also be
// given as one string, such as credentials given as a connection string
// ("postgresql://loader:pw@localhost:5432/dlt_data").
type NativeParser interface {
	ParseNative(s string) error
}

// Decode fills the struct dst from configuration under sections, field by
// field, with the same lookup rules as Lookup. Fields are named by the
// `config` tag: `config:"name[,secret][,required]"`; a field without a tag is
// skipped. A nested struct field becomes an embedded section (its name is kept
// fixed for its own fields, as dlt does for "credentials"); the field's own
// key is looked up first as a whole value: a string is handed to
// NativeParser, a table or JSON object fills the fields. A field with no
// value keeps what dst already holds (its default). Every required field that
// is missing is reported in one *MissingError.
func (r *Resolver) Decode(pipeline string, sections []string, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Decode needs a pointer to a struct, got %T", dst)
	}
	miss := &MissingError{Profile: r.Profile, Providers: r.Providers}
	if err := r.decodeStruct(pipeline, sections, nil, v.Elem(), miss); err != nil {
		return err
	}
	if len(miss.Keys) > 0 {
		return miss
	}
	return nil
}

type fieldTag struct {
	name     string
	secret   bool
	required bool
}

func parseTag(s string) (fieldTag, bool) {
	if s == "" || s == "-" {
		return fieldTag{}, false
	}
	parts := strings.Split(s, ",")
	t := fieldTag{name: parts[0]}
	for _, o := range parts[1:] {
		switch o {
		case "secret":
			t.secret = true
		case "required":
			t.required = true
		}
	}
	return t, true
}

func (r *Resolver) decodeStruct(pipeline string, sections, fixed []string, v reflect.Value, miss *MissingError) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := parseTag(sf.Tag.Get("config"))
		if !ok || !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if isStructField(fv) {
			// Embedded configuration: the previous fixed section becomes
			// optional, this field's name becomes the fixed one.
			inner := append(append([]string{}, sections...), fixed...)
			k := Key{Pipeline: pipeline, Sections: inner, Name: tag.name, Secret: tag.secret || IsSecretKey(tag.name)}
			res, err := r.Lookup(k)
			if err != nil {
				return err
			}
			target := fv
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					fv.Set(reflect.New(fv.Type().Elem()))
				}
				target = fv.Elem()
			}
			if res.Found {
				if err := assignNative(target, res.Value); err != nil {
					return fmt.Errorf("%s from %s: %w", k, describe(res.Winner), err)
				}
			}
			if err := r.decodeStruct(pipeline, inner, []string{tag.name}, target, miss); err != nil {
				return err
			}
			continue
		}
		k := Key{Pipeline: pipeline, Sections: sections, Fixed: fixed, Name: tag.name, Secret: tag.secret || IsSecretKey(tag.name)}
		res, err := r.Lookup(k)
		if err != nil {
			return err
		}
		if !res.Found {
			if tag.required && fv.IsZero() {
				miss.Keys = append(miss.Keys, k)
				miss.Traces = append(miss.Traces, res.Traces)
			}
			continue
		}
		if err := assign(fv, res.Value); err != nil {
			return fmt.Errorf("invalid value for %s from %s: %w", k, describe(res.Winner), err)
		}
	}
	return nil
}

func describe(t Trace) string {
	if t.Origin != "" {
		return t.Origin
	}
	return t.Provider
}

func isStructField(v reflect.Value) bool {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]()
}

// assignNative fills a struct from a whole value: a string goes to
// NativeParser (or is decoded as JSON when it looks like an object), a table
// fills fields by their tags.
func assignNative(v reflect.Value, val any) error {
	if s, ok := val.(string); ok {
		if np, ok := v.Addr().Interface().(NativeParser); ok {
			return np.ParseNative(s)
		}
		if strings.HasPrefix(strings.TrimSpace(s), "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return fmt.Errorf("not a JSON object: %w", err)
			}
			val = m
		} else {
			return fmt.Errorf("want a table of fields, got the string %q", s)
		}
	}
	m, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("want a table of fields, got %T", val)
	}
	t := v.Type()
	for i := range t.NumField() {
		tag, ok := parseTag(t.Field(i).Tag.Get("config"))
		if !ok {
			continue
		}
		fval, ok := m[tag.name]
		if !ok {
			continue
		}
		f := v.Field(i)
		if isStructField(f) {
			if f.Kind() == reflect.Pointer {
				if f.IsNil() {
					f.Set(reflect.New(f.Type().Elem()))
				}
				f = f.Elem()
			}
			if err := assignNative(f, fval); err != nil {
				return fmt.Errorf("%s: %w", tag.name, err)
			}
			continue
		}
		if err := assign(f, fval); err != nil {
			return fmt.Errorf("%s: %w", tag.name, err)
		}
	}
	return nil
}

// assign converts a value from TOML (typed) or the environment (a string,
// JSON for lists and tables) into the field's type.
func assign(v reflect.Value, val any) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return assign(v.Elem(), val)
	}
	if v.Type() == reflect.TypeFor[time.Duration]() {
		d, err := toDuration(val)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		switch x := val.(type) {
		case string:
			v.SetString(x)
		case int64, float64, bool:
			v.SetString(fmt.Sprint(x))
		default:
			return fmt.Errorf("want a string, got %s", kindOf(val))
		}
	case reflect.Bool:
		switch x := val.(type) {
		case bool:
			v.SetBool(x)
		case string:
			b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(x)))
			if err != nil {
				return fmt.Errorf("want true or false, got %q", x)
			}
			v.SetBool(b)
		default:
			return fmt.Errorf("want true or false, got %s", kindOf(val))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch x := val.(type) {
		case int64:
			n = x
		case float64:
			if x != float64(int64(x)) {
				return fmt.Errorf("want an integer, got %v", x)
			}
			n = int64(x)
		case string:
			p, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", x)
			}
			n = p
		default:
			return fmt.Errorf("want an integer, got %s", kindOf(val))
		}
		if v.OverflowInt(n) {
			return fmt.Errorf("%d is out of range", n)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var n uint64
		switch x := val.(type) {
		case int64:
			if x < 0 {
				return fmt.Errorf("want a non-negative integer, got %d", x)
			}
			n = uint64(x)
		case string:
			p, err := strconv.ParseUint(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return fmt.Errorf("want a non-negative integer, got %q", x)
			}
			n = p
		default:
			return fmt.Errorf("want a non-negative integer, got %s", kindOf(val))
		}
		if v.OverflowUint(n) {
			return fmt.Errorf("%d is out of range", n)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		switch x := val.(type) {
		case float64:
			v.SetFloat(x)
		case int64:
			v.SetFloat(float64(x))
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return fmt.Errorf("want a number, got %q", x)
			}
			v.SetFloat(f)
		default:
			return fmt.Errorf("want a number, got %s", kindOf(val))
		}
	case reflect.Slice:
		list, err := asList(val)
		if err != nil {
			return err
		}
		out := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, e := range list {
			if err := assign(out.Index(i), e); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		v.Set(out)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("unsupported map key type %s", v.Type().Key())
		}
		m, err := asTable(val)
		if err != nil {
			return err
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := assign(ev, e); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(out)
	case reflect.Interface:
		if s, ok := val.(string); ok {
			var j any
			if json.Unmarshal([]byte(s), &j) == nil {
				if _, isStr := j.(string); !isStr {
					val = j
				}
			}
		}
		v.Set(reflect.ValueOf(val))
	default:
		return fmt.Errorf("unsupported field type %s", v.Type())
	}
	return nil
}

func asList(val any) ([]any, error) {
	switch x := val.(type) {
	case []any:
		return x, nil
	case string:
		var l []any
		if err := json.Unmarshal([]byte(x), &l); err != nil {
			return nil, fmt.Errorf("want a list (JSON in environment variables, e.g. [\"a\", \"b\"]), got %q", x)
		}
		return jsonNumbers(l).([]any), nil
	}
	return nil, fmt.Errorf("want a list, got %s", kindOf(val))
}

func asTable(val any) (map[string]any, error) {
	switch x := val.(type) {
	case map[string]any:
		return x, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil {
			return nil, fmt.Errorf("want a table (JSON in environment variables, e.g. {\"key\": \"value\"}), got %q", x)
		}
		return jsonNumbers(m).(map[string]any), nil
	}
	return nil, fmt.Errorf("want a table, got %s", kindOf(val))
}

// jsonNumbers turns whole float64 numbers from JSON into int64, as TOML
// would have typed them.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

func toDuration(val any) (time.Duration, error) {
	switch x := val.(type) {
	case int64:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case string:
		if d, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
		return 0, fmt.Errorf("want a duration such as 30s or 5m, or a number of seconds, got %q", x)
	}
	return 0, fmt.Errorf("want a duration, got %s", kindOf(val))
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a table"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
