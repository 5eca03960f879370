package config

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/multikanal/multikanal/outbound"
	"github.com/pelletier/go-toml/v2"
)

// A registered channel whose descriptor has an Agreement gives every
// tenant a table of its own, [tenant.NAME]: the biller's agreement with the
// channel's receiver. The table is decoded into the channel's own type and
// checked by it, so config knows neither the channel nor its keys. Between
// the two, an agreement that is an outbound.AgreementPreparer takes its
// defaults from the tenant and has its files resolved as every other file
// of the configuration (prepareAgreements).

// agreementKey reports whether a key the strict decoder did not know lies
// in a tenant's agreement table, which decodeAgreements reads and checks.
func (ps *problems) agreementKey(c *Config, de *toml.DecodeError) bool {
	line, _ := de.Position()
	_, name, ok := agreementTable(ps.index.find(de.Key(), line))
	if !ok {
		return false
	}
	d, ok := c.descriptor(name)
	return ok && d.Agreement != nil
}

// agreementTable splits "tenant[3].NAME.key" into 3 and NAME.
func agreementTable(key string) (int, string, bool) {
	rest, ok := strings.CutPrefix(key, "tenant[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "].")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	name, _, _ := strings.Cut(rest, ".")
	return i, name, name != ""
}

// decodeAgreements decodes every tenant's agreement tables into
// Tenant.Agreements; checkAgreements checks them once the defaults are
// applied and the paths resolved.
func (ps *problems) decodeAgreements(c *Config, data []byte) {
	var raw struct {
		Tenants []map[string]any `toml:"tenant"`
	}
	if err := toml.Unmarshal(data, &raw); err != nil {
		return // the strict decode has reported it
	}
	for i := range c.Tenants {
		if i >= len(raw.Tenants) {
			break
		}
		for _, d := range c.registered {
			sub, ok := raw.Tenants[i][d.Name]
			if d.Agreement == nil || !ok {
				continue
			}
			key := fmt.Sprintf("tenant[%d].%s", i, d.Name)
			table, ok := sub.(map[string]any)
			if !ok {
				ps.add(key, "write a table, [tenant.%s], with the tenant's agreement", d.Name)
				continue
			}
			v := d.Agreement()
			if ps.decodeAgreement(key, table, v) {
				if c.Tenants[i].Agreements == nil {
					c.Tenants[i].Agreements = map[string]any{}
				}
				c.Tenants[i].Agreements[d.Name] = v
			}
		}
	}
}

// decodeAgreement decodes one agreement table into v, a pointer to the
// channel's struct. It reports whether v holds the table.
func (ps *problems) decodeAgreement(key string, table map[string]any, v any) bool {
	rt := reflect.TypeOf(v)
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct {
		ps.add(key, "the channel's agreement type %s is not a struct: the registration is wrong", rt)
		return false
	}
	ok := true
	for _, k := range slices.Sorted(maps.Keys(table)) {
		f, known := fieldByTag(rt, k)
		if !known {
			msg := fmt.Sprintf("unknown key %q", key+"."+k)
			if hint := hintFor(k, schemaKeysOf(rt)); hint != "" {
				msg += ": " + hint
			}
			ps.list = append(ps.list, Problem{File: ps.file, Line: ps.index.lineOf(key + "." + k), Msg: msg})
			ok = false
			continue
		}
		if e, written := ps.index[key+"."+k]; written {
			if msg := typeMismatch(f.Type, e); msg != "" {
				ps.add(key+"."+k, "%s", msg)
				ok = false
			}
		}
	}
	if !ok {
		return false
	}
	b, err := toml.Marshal(table)
	if err == nil {
		dec := toml.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		ps.add(key, "%v", err)
		return false
	}
	return true
}

// prepareAgreements hands every agreement that is an
// outbound.AgreementPreparer its tenant's bankgiro and the resolver of
// file paths (resolvePaths').
func (c *Config) prepareAgreements(file func(*string)) {
	path := func(p string) string { file(&p); return p }
	for i := range c.Tenants {
		t := &c.Tenants[i]
		for _, a := range t.Agreements {
			if p, ok := a.(outbound.AgreementPreparer); ok {
				p.Prepare(outbound.AgreementSetup{Bankgiro: t.Bankgiro, Path: path, Embedded: c.Embedded})
			}
		}
	}
}

// checkAgreements calls each agreement's Check() error, when it has one,
// and reports an error that starts with a key's name at that key.
func (ps *problems) checkAgreements(c *Config) {
	for i, t := range c.Tenants {
		for _, name := range slices.Sorted(maps.Keys(t.Agreements)) {
			ps.checkAgreement(fmt.Sprintf("tenant[%d].%s", i, name), t.Agreements[name])
		}
	}
}

func (ps *problems) checkAgreement(key string, v any) {
	check, ok := v.(interface{ Check() error })
	if !ok {
		return
	}
	err := check.Check()
	if err == nil {
		return
	}
	rt := reflect.TypeOf(v)
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		msg, at := e.Error(), key
		// "account: ..." or `customer_unit "1": ...` is about that key.
		first := msg
		if i := strings.IndexAny(msg, " :"); i >= 0 {
			first = msg[:i]
		}
		if _, isKey := fieldByTag(rt, first); isKey {
			at, msg = key+"."+first, strings.TrimLeft(msg[len(first):], ": ")
		}
		ps.add(at, "%s", msg)
	}
}
