package schema

import (
	"encoding/json"
	"fmt"
)

// Contract modes.
const (
	Evolve       = "evolve"
	Freeze       = "freeze"
	DiscardRow   = "discard_row"
	DiscardValue = "discard_value"
)

// Contract says what may change: new tables, new columns, and values whose
// type does not fit their column. Empty fields mean evolve.
type Contract struct {
	Tables   string `json:"tables,omitempty"`
	Columns  string `json:"columns,omitempty"`
	DataType string `json:"data_type,omitempty"`
	// whole is set when the contract was given as one mode for all three
	// ("freeze"): dlt keeps that shorthand in the schema, so it is written
	// back the same way.
	whole bool
}

// ParseContract accepts one mode for all three entities or a table of them.
func ParseContract(v any) (*Contract, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if err := checkMode("schema_contract", x); err != nil {
			return nil, err
		}
		return &Contract{Tables: x, Columns: x, DataType: x, whole: true}, nil
	case map[string]any:
		c := &Contract{}
		for k, val := range x {
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("schema_contract.%s: want a mode string, got %v", k, val)
			}
			if err := checkMode("schema_contract."+k, s); err != nil {
				return nil, err
			}
			switch k {
			case "tables":
				c.Tables = s
			case "columns":
				c.Columns = s
			case "data_type":
				c.DataType = s
			default:
				return nil, fmt.Errorf("schema_contract: unknown entity %q (tables, columns, data_type)", k)
			}
		}
		return c, nil
	}
	return nil, fmt.Errorf("schema_contract: want a mode or a table, got %T", v)
}

func checkMode(key, m string) error {
	switch m {
	case Evolve, Freeze, DiscardRow, DiscardValue:
		return nil
	}
	return fmt.Errorf("%s: unknown mode %q (evolve, freeze, discard_row, discard_value)", key, m)
}

// MarshalJSON writes the shorthand a contract was given as, or the table
// of the entities it sets.
func (c Contract) MarshalJSON() ([]byte, error) {
	if c.whole && c.Tables == c.Columns && c.Columns == c.DataType {
		return json.Marshal(c.Tables)
	}
	type entities Contract // without this method
	return json.Marshal(entities(c))
}

// UnmarshalJSON accepts the string shorthand too.
func (c *Contract) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p, err := ParseContract(v)
	if err != nil {
		return err
	}
	if p != nil {
		*c = *p
	}
	return nil
}

func mode(m string) string {
	if m == "" {
		return Evolve
	}
	return m
}

// TablesMode is the mode for new tables.
func (c *Contract) TablesMode() string {
	if c == nil {
		return Evolve
	}
	return mode(c.Tables)
}

// ColumnsMode is the mode for new columns.
func (c *Contract) ColumnsMode() string {
	if c == nil {
		return Evolve
	}
	return mode(c.Columns)
}

// DataTypeMode is the mode for values that do not fit their column.
func (c *Contract) DataTypeMode() string {
	if c == nil {
		return Evolve
	}
	return mode(c.DataType)
}

// ContractError is a change a frozen contract forbids.
type ContractError struct {
	Table, Column string
	Entity        string // tables, columns or data_type
	Detail        string
}

func (e *ContractError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("schema contract violation: %s is frozen: table %q column %q: %s", e.Entity, e.Table, e.Column, e.Detail)
	}
	return fmt.Sprintf("schema contract violation: %s is frozen: table %q: %s", e.Entity, e.Table, e.Detail)
}

// ValueError is a value the destination cannot store (PostgreSQL's text
// cannot hold NUL). It is bad data: a retry would meet it again, so the
// package that holds it is dropped, as for malformed JSON.
type ValueError struct {
	Table, Column string
	Detail        string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("table %q column %q: %s", e.Table, e.Column, e.Detail)
}
