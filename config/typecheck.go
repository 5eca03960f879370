package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

var (
	durationType = reflect.TypeOf(Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// checkTypes compares every value in the document with the type of its
// field before decoding. go-toml stops at the first value of a wrong type
// and names Go types in its message; checking first reports every such
// value, on its line, in the terms of the file. Unknown keys are left to
// the strict decoder.
func (ps *problems) checkTypes() {
	keys := make([]string, 0, len(ps.index))
	for k := range ps.index {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := ps.index[keys[i]], ps.index[keys[j]]
		return a.line < b.line || a.line == b.line && keys[i] < keys[j]
	})
	for _, key := range keys {
		e := ps.index[key]
		t, ok := typeAt(key)
		if !ok {
			continue
		}
		if msg := typeMismatch(t, e); msg != "" {
			ps.list = append(ps.list, Problem{File: ps.file, Line: e.line, Key: key, Msg: msg})
		}
	}
}

// typeAt returns the Go type that decodes the value at a dotted key such as
// "tenant[0].priority[2]".
func typeAt(key string) (reflect.Type, bool) {
	t := reflect.TypeOf(Config{})
	for _, seg := range strings.Split(key, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			// [channel.NAME]: any name, one type.
			t = t.Elem()
		case reflect.Struct:
			f, ok := fieldByTag(t, name)
			if !ok {
				return nil, false
			}
			t = f.Type
		default:
			return nil, false
		}
		for ; rest != ""; _, rest, _ = strings.Cut(rest, "[") {
			if t.Kind() != reflect.Slice {
				return nil, false
			}
			t = t.Elem()
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
}

// typeMismatch says what is wrong with a value for type t, or "".
func typeMismatch(t reflect.Type, e entry) string {
	if t == durationType || t == byteSizeType {
		if e.kind == unstable.Integer && t == byteSizeType {
			return ""
		}
		if e.kind != unstable.String {
			if t == durationType {
				return fmt.Sprintf("found %s: write a duration as a string with a unit, like \"30s\" or \"72h\"", kindName(e.kind))
			}
			return fmt.Sprintf("found %s: write a size as a number of bytes or a string with a unit, like \"256MiB\"", kindName(e.kind))
		}
		v := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := v.UnmarshalText([]byte(e.text)); err != nil {
			return err.Error()
		}
		return ""
	}
	var want string
	switch t.Kind() {
	case reflect.String:
		if e.kind == unstable.String {
			return ""
		}
		want = `a string in quotes, like "x"`
	case reflect.Int, reflect.Int64:
		if e.kind == unstable.Integer {
			return ""
		}
		want = "a whole number"
	case reflect.Float64:
		if e.kind == unstable.Integer || e.kind == unstable.Float {
			return ""
		}
		want = "a number"
	case reflect.Bool:
		if e.kind == unstable.Bool {
			return ""
		}
		want = "true or false"
	case reflect.Slice:
		if e.kind == unstable.Array || e.kind == unstable.ArrayTable {
			return ""
		}
		want = `a list, like ["a", "b"]`
		if t.Elem().Kind() == reflect.Struct {
			want = "[[tables]]"
		}
	case reflect.Struct:
		if e.kind == unstable.Table || e.kind == unstable.InlineTable {
			return ""
		}
		want = "a table"
	default:
		return ""
	}
	return fmt.Sprintf("found %s: write %s", kindName(e.kind), want)
}

func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "a whole number"
	case unstable.Float:
		return "a number with a fraction"
	case unstable.Bool:
		return "true/false"
	case unstable.Array:
		return "a list"
	case unstable.Table, unstable.InlineTable, unstable.ArrayTable:
		return "a table"
	default:
		return "a date or time"
	}
}
