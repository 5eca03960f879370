package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/pelletier/go-toml/v2"
)

// Templates are a tenant's template file ([tenant.design] templates): the
// segments of its customers, each chosen by rules on the document, and
// the message block each segment's invoices carry (docs/design.md#segments).
// The file is TOML the sysadmin edits; `check` reports each problem with
// the file, the line and the rule.
type Templates struct {
	Segments []Segment `toml:"segment"`
}

// Segment is one [[segment]] of a template file. A document is in the
// first segment whose rules all hold (a rule left out holds; a list holds
// when any of its values does); a segment with no rules takes every
// document that reaches it.
type Segment struct {
	Name string `toml:"name"`
	// Channel: the channel the invoice is rendered for ("print" for the
	// paper invoice).
	Channel []string `toml:"channel"`
	// CustomerGroup: the input's customer group (the CSV's
	// customer_group column), compared without regard to case.
	CustomerGroup []string `toml:"customer_group"`
	// Kind: the kind of document ("invoice", "reminder", "letter", ...);
	// left out, invoices and credit notes.
	Kind []string `toml:"kind"`
	// AmountOver and AmountUnder bound the amount due, in the invoice's
	// currency, like "10000" or "499.50".
	AmountOver  string `toml:"amount_over"`
	AmountUnder string `toml:"amount_under"`
	// Column: an invoice column of the Multikanal CSV (docs/formats/csv.md)
	// equals one of the values, compared without regard to case.
	Column *ColumnRule `toml:"column"`
	// Message is the segment's message block, in Swedish (and in English
	// where MessageEN is empty); MessageEN in English.
	Message   string `toml:"message"`
	MessageEN string `toml:"message_en"`

	// Over and Under are AmountOver and AmountUnder in öre; nil when not
	// set.
	Over, Under *formats.Amount `toml:"-"`
}

// ColumnRule is a segment's rule on a column.
type ColumnRule struct {
	Name   string   `toml:"name"`
	Equals []string `toml:"equals"`
}

// segmentKeys are a segment's keys, for the message that refuses another.
var segmentKeys = schemaKeysOf(reflect.TypeOf(Segment{}))

// maxTemplates bounds a template file.
const maxTemplates = 256 << 10

// loadTemplates reads and checks a tenant's template file. Its problems
// name the template file and their line in it.
func (c *Config) loadTemplates(ps *problems, key, path string) []Segment {
	data, ok := c.readDesignFile(ps, key, path, maxTemplates)
	if !ok {
		return nil
	}
	idx, syntax := indexDocument(data)
	if syntax != nil {
		syntax.File = path
		ps.list = append(ps.list, *syntax)
		return nil
	}
	sub := &problems{file: path, index: idx}
	defer func() { ps.list = append(ps.list, sub.list...) }()
	var t Templates
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			// The rest of the file was decoded: its other problems are
			// reported too.
			for i := range strict.Errors {
				e := &strict.Errors[i]
				line, _ := e.Position()
				k := sub.index.find(e.Key(), line)
				sub.list = append(sub.list, Problem{File: path, Line: line, Msg: fmt.Sprintf("unknown key %q: %s", k, hintFor(lastKey(k), segmentKeys))})
			}
		case errors.As(err, &de):
			line, col := de.Position()
			sub.list = append(sub.list, Problem{File: path, Line: line, Column: col, Msg: strings.TrimPrefix(de.Error(), "toml: ")})
			return nil
		default:
			sub.list = append(sub.list, Problem{File: path, Msg: err.Error()})
			return nil
		}
	}
	distribution := c.distribution()
	names := map[string]int{}
	for i := range t.Segments {
		s := &t.Segments[i]
		k := fmt.Sprintf("segment[%d]", i)
		switch j, dup := names[s.Name]; {
		case strings.TrimSpace(s.Name) == "":
			sub.add(k+".name", `required: a name for the segment, like "paper", which receipts and docs show`)
		case dup:
			sub.add(k+".name", "%q is already the name of segment[%d]: names must be unique", s.Name, j)
		}
		names[s.Name] = i
		for _, kind := range s.Kind {
			if _, ok := formats.ParseKind(kind); !ok {
				sub.add(k+".kind", "rule kind: unknown kind %q: the kinds are %s", kind, quoteList(kindNames()))
			}
		}
		for _, ch := range s.Channel {
			if !slices.Contains(distribution, ch) {
				sub.add(k+".channel", "rule channel: unknown channel %q: the channels are %s", ch, quoteList(distribution))
			}
		}
		for _, b := range []struct {
			name, v string
			to      **formats.Amount
		}{{"amount_over", s.AmountOver, &s.Over}, {"amount_under", s.AmountUnder, &s.Under}} {
			if b.v == "" {
				continue
			}
			a, err := formats.ParseAmount(b.v)
			if err != nil {
				sub.add(k+"."+b.name, "rule %s: %q is not an amount: write it like \"10000\" or \"499.50\"", b.name, b.v)
				continue
			}
			*b.to = &a
		}
		if s.Over != nil && s.Under != nil && *s.Over >= *s.Under {
			sub.add(k+".amount_over", "rule amount_over %s is not below amount_under %s: no amount is in the segment", s.AmountOver, s.AmountUnder)
		}
		if col := s.Column; col != nil {
			switch {
			case !csv.IsInvoiceColumn(col.Name):
				sub.add(k+".column", "rule column: %q is not an invoice column of the Multikanal CSV (docs/formats/csv.md), like \"customer_group\" or \"buyer_reference\"", col.Name)
			case len(col.Equals) == 0:
				sub.add(k+".column", "rule column: give the values it may equal, like equals = [\"vår\"]")
			}
		}
		if strings.TrimSpace(s.Message) == "" {
			sub.add(k+".message", "required: the message block the segment's invoices carry")
		}
	}
	return t.Segments
}

// lastKey is the last part of a dotted key.
func lastKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[i+1:]
	}
	return k
}

// Matches reports whether the document, rendered for channel, is in the
// segment.
func (s *Segment) Matches(d *formats.Document, channel string) bool {
	if len(s.Channel) > 0 && !slices.Contains(s.Channel, channel) {
		return false
	}
	switch kind := string(d.Kind); {
	case len(s.Kind) > 0 && !containsFold(s.Kind, kind):
		return false
	case len(s.Kind) == 0 && !d.Kind.Billing():
		// A segment written for invoices says nothing to a reminder.
		return false
	}
	if len(s.CustomerGroup) > 0 && !containsFold(s.CustomerGroup, d.CustomerGroup) {
		return false
	}
	if s.Over != nil && d.Totals.Payable <= *s.Over || s.Under != nil && d.Totals.Payable >= *s.Under {
		return false
	}
	if c := s.Column; c != nil {
		v, ok := csv.Value(d, c.Name)
		if !ok || !containsFold(c.Equals, v) {
			return false
		}
	}
	return true
}

// MessageIn is the segment's message in the language.
func (s *Segment) MessageIn(lang string) string {
	if lang == "en" && s.MessageEN != "" {
		return s.MessageEN
	}
	return s.Message
}

func containsFold(list []string, v string) bool {
	v = strings.TrimSpace(v)
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}

// kindNames are the kinds a segment's kind rule takes.
func kindNames() []string {
	out := make([]string, len(formats.Kinds))
	for i, k := range formats.Kinds {
		out[i] = string(k)
	}
	return out
}
