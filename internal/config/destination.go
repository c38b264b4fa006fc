package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownDestination is wrapped by errors about destination names that are
// neither configured nor a known type.
var ErrUnknownDestination = errors.New("unknown destination")

// DestinationTypes are the destination types this build knows.
func DestinationTypes() []string {
	return []string{"duckdb", "filesystem", "motherduck", "postgres"}
}

// Destination is a resolved destination reference.
type Destination struct {
	// Name is what the pipeline asked for ("warehouse" or "duckdb").
	Name string
	// Type is the destination type ("duckdb").
	Type string
	// Sections is where its settings live: destination.<name>.
	Sections []string
}

// ResolveDestination turns a destination reference into a type: a named
// destination has destination.<name>.destination_type; a plain type name
// needs no configuration. Unknown names fail with the keys tried and the
// known types.
func (r *Resolver) ResolveDestination(pipeline, name string) (Destination, error) {
	if name == "" {
		return Destination{}, fmt.Errorf("%w: no destination given; set one of %s or a named destination", ErrUnknownDestination, strings.Join(DestinationTypes(), ", "))
	}
	k := Key{Pipeline: pipeline, Fixed: []string{"destination", name}, Name: "destination_type"}
	res, err := r.Lookup(k)
	if err != nil {
		return Destination{}, err
	}
	d := Destination{Name: name, Sections: []string{"destination", name}}
	if res.Found {
		t, ok := res.Value.(string)
		if !ok || !slices.Contains(DestinationTypes(), t) {
			return Destination{}, fmt.Errorf("%w: %s from %s is %v; known types: %s", ErrUnknownDestination, k, describe(res.Winner), res.Value, strings.Join(DestinationTypes(), ", "))
		}
		d.Type = t
		return d, nil
	}
	if slices.Contains(DestinationTypes(), name) {
		d.Type = name
		return d, nil
	}
	var tried []string
	for _, t := range res.Traces {
		tried = append(tried, t.Provider+" "+t.KeyName)
	}
	return Destination{}, fmt.Errorf("%w %q (profile %q): it is not a destination type and no destination_type is configured for it; tried %s; known types: %s. Add to .dlt/config.toml:\n  [destination.%s]\n  destination_type = \"duckdb\"",
		ErrUnknownDestination, name, r.Profile, strings.Join(tried, ", "), strings.Join(DestinationTypes(), ", "), name)
}
