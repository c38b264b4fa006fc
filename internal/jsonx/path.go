package jsonx

import (
	"strconv"
	"strings"
)

// Select reads a dotted path with optional list indexes from a value:
// "data.items", "$.meta.next", "items[0].id". Objects may be *Object or Go
// maps. An empty path is the value itself.
func Select(v any, path string) (any, bool) {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if path == "" {
		return v, true
	}
	cur := v
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return nil, false
			}
			idx = n
		}
		if name != "" {
			var ok bool
			switch o := cur.(type) {
			case *Object:
				cur, ok = o.Get(name)
			case map[string]any:
				cur, ok = o[name]
			}
			if !ok {
				return nil, false
			}
		}
		if idx >= 0 {
			l, ok := cur.([]any)
			if !ok || idx >= len(l) {
				return nil, false
			}
			cur = l[idx]
		}
	}
	return cur, true
}
