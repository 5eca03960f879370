package config

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/multikanal/multikanal/outbound"
)

// The channels are not known to this package: Load is given their
// descriptors (outbound/channels lists them) and checks every
// [channel.NAME] table against them. config depends on outbound's
// descriptor type alone, never on a channel's implementation.

// ChannelNames returns the names of the registered channels, in their
// registration order.
func (c *Config) ChannelNames() []string {
	names := make([]string, len(c.registered))
	for i, d := range c.registered {
		names[i] = d.Name
	}
	return names
}

// Distribution returns the names of the registered channels that carry
// documents to their recipients and are run (not Off): the ones a CSV
// or a registration may name.
func (c *Config) Distribution() []string {
	var names []string
	for _, d := range c.registered {
		if d.Role == outbound.Distribution && c.Channels[d.Name].Off == "" {
			names = append(names, d.Name)
		}
	}
	return names
}

// distribution returns every registered distribution channel, run or not:
// the ones a priority list may name.
func (c *Config) distribution() []string {
	var names []string
	for _, d := range c.registered {
		if d.Role == outbound.Distribution {
			names = append(names, d.Name)
		}
	}
	return names
}

// inUse reports whether anything in the file uses a channel: its table, a
// priority list, a tenant's agreement.
func (c *Config) inUse(ps *problems, name string) bool {
	if _, ok := ps.index["channel."+name]; ok {
		return true
	}
	for _, t := range c.Tenants {
		if _, ok := t.Agreements[name]; ok || slices.Contains(t.Priority, name) {
			return true
		}
	}
	return false
}

// switchOff marks the channels that cannot run (a key they require is not
// set) and that nothing uses, so they are not run instead of refused.
func (c *Config) switchOff(ps *problems) {
	for _, d := range c.registered {
		ch := c.Channels[d.Name]
		for _, k := range d.Required {
			if strings.TrimSpace(ch.Settings.Get(k.Name)) == "" && !c.inUse(ps, d.Name) {
				ch.Off = fmt.Sprintf("channel.%s.%s is not set", d.Name, k.Name)
				break
			}
		}
	}
}

// ChannelConfig returns the [channel.NAME] table of the named channel, or
// nil for a name that is not a registered channel.
func (c *Config) ChannelConfig(name string) *Channel {
	if ch, ok := c.Channels[name]; ok && ch.Descriptor.Name == name {
		return ch
	}
	return nil
}

// Tenant returns the tenant with the given id, or nil.
func (c *Config) Tenant(id string) *Tenant {
	for i := range c.Tenants {
		if c.Tenants[i].ID == id {
			return &c.Tenants[i]
		}
	}
	return nil
}

// TransportSpec returns the real transport the table chose, or ok=false on
// the spool transport (and on a transport the channel does not have, which
// validation refuses).
func (ch *Channel) TransportSpec() (outbound.TransportSpec, bool) {
	return ch.Descriptor.Transport(ch.Transport)
}

// register checks the descriptors Load was given: a registration that is
// wrong is the program's fault, not the file's, but it is reported the
// same way so that `multikanal check` shows it.
func (c *Config) register(channels []outbound.Descriptor) error {
	var errs []error
	seen := map[string]bool{}
	for _, d := range channels {
		if err := d.Check(); err != nil {
			errs = append(errs, err)
		}
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("channel %s is registered twice", d.Name))
		}
		if _, taken := fieldByTag(reflect.TypeOf(Tenant{}), d.Name); taken && d.Agreement != nil {
			errs = append(errs, fmt.Errorf("channel %s: its agreement table would be [tenant.%s], which is a key of every tenant already", d.Name, d.Name))
		}
		seen[d.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the registered channels: %w", err)
	}
	c.registered = slices.Clone(channels)
	return nil
}

// transportKeys returns every key some registered transport takes. A key
// of a [channel.NAME] table that is one of them but not one its transport
// takes is "not used by transport X"; any other key is unknown.
func (c *Config) transportKeys() map[string]outbound.Key {
	keys := map[string]outbound.Key{}
	for _, d := range c.registered {
		for _, k := range d.Keys() {
			if _, ok := keys[k.Name]; !ok {
				keys[k.Name] = k
			}
		}
		for _, t := range d.Transports {
			for _, k := range t.Keys() {
				if _, ok := keys[k.Name]; !ok {
					keys[k.Name] = k
				}
			}
		}
	}
	return keys
}

// channelTableKeys lists the keys a channel's table can hold, for the
// hint about an unknown one.
func channelTableKeys(d outbound.Descriptor) []string {
	keys := schemaKeysOf(reflect.TypeOf(Channel{}))
	for _, k := range d.Keys() {
		keys = append(keys, k.Name)
	}
	for _, t := range d.Transports {
		for _, k := range t.Keys() {
			if !slices.Contains(keys, k.Name) {
				keys = append(keys, k.Name)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// channelKey takes a key the strict decoder did not know, when it is a
// transport key of a [channel.NAME] table, into the table's Settings. It
// reports whether it did; the caller reports any other key as unknown.
func (ps *problems) channelKey(c *Config, de *toml.DecodeError) bool {
	line, _ := de.Position()
	key := ps.index.find(de.Key(), line)
	parts := strings.Split(key, ".")
	if len(parts) != 3 || parts[0] != "channel" {
		return false
	}
	name, k := parts[1], parts[2]
	ch := c.Channels[name]
	if ch == nil || !slices.ContainsFunc(c.registered, func(d outbound.Descriptor) bool { return d.Name == name }) {
		return true // the channel itself is reported as unknown
	}
	if _, ok := c.transportKeys()[k]; !ok {
		msg := fmt.Sprintf("unknown key %q", key)
		d, _ := c.descriptor(name)
		if hint, ok := d.Removed[k]; ok {
			msg += ": " + hint
		} else if hint := hintFor(k, channelTableKeys(d)); hint != "" {
			msg += ": " + hint
		}
		ps.list = append(ps.list, Problem{File: ps.file, Line: line, Msg: msg})
		return true
	}
	e := ps.index[key]
	if msg := typeMismatch(reflect.TypeOf(""), e); msg != "" {
		ps.list = append(ps.list, Problem{File: ps.file, Line: e.line, Key: key, Msg: msg})
		return true
	}
	if ch.Settings == nil {
		ch.Settings = outbound.Settings{}
	}
	ch.Settings[k] = e.text
	return true
}

func (c *Config) descriptor(name string) (outbound.Descriptor, bool) {
	for _, d := range c.registered {
		if d.Name == name {
			return d, true
		}
	}
	return outbound.Descriptor{}, false
}

// bindChannels gives every registered channel its table (an empty one when
// the file has none) and refuses a table for a channel that is not
// registered.
func (ps *problems) bindChannels(c *Config) {
	names := c.ChannelNames()
	for name := range c.Channels {
		if !slices.Contains(names, name) {
			key := "channel." + name
			msg := fmt.Sprintf("unknown key %q", key)
			sorted := slices.Sorted(slices.Values(names))
			if hint := hintFor(name, sorted); hint != "" {
				msg += ": " + hint
			}
			ps.list = append(ps.list, Problem{File: ps.file, Line: ps.index.lineOf(key), Msg: msg})
			delete(c.Channels, name)
		}
	}
	if c.Channels == nil {
		c.Channels = map[string]*Channel{}
	}
	for _, d := range c.registered {
		ch := c.Channels[d.Name]
		if ch == nil {
			ch = &Channel{}
			c.Channels[d.Name] = ch
		}
		ch.Descriptor = d
		if ch.Settings == nil {
			ch.Settings = outbound.Settings{}
		}
	}
}

// validateChannel checks one table against its channel's descriptor.
func (c *Config) validateChannel(ps *problems, key string, ch *Channel) {
	d := ch.Descriptor
	spec, real := ch.TransportSpec()
	if !real && ch.Transport != outbound.Spool {
		names := []string{outbound.Spool}
		for _, t := range d.Transports {
			names = append(names, t.Name)
		}
		slices.Sort(names)
		ps.add(key+".transport", "%q is not a transport of channel %s: use %s", ch.Transport, d.Name, quoteList(names))
		return
	}
	if ch.Workers < 0 {
		ps.add(key+".workers", "%d: use a positive number, or leave it out to use [delivery] workers", ch.Workers)
	}
	if ch.RateLimit < 0 {
		ps.add(key+".rate_limit", "%g: use sends per second, or 0 for no limit", ch.RateLimit)
	}
	unused := func(k string) {
		hint := ""
		if !real {
			var names []string
			for _, t := range d.Transports {
				names = append(names, t.Name)
			}
			slices.Sort(names)
			hint = fmt.Sprintf(" (set transport to use a real one: %s)", quoteList(names))
		}
		ps.add(key+"."+k, "not used by transport %s: remove it%s", ch.Transport, hint)
	}
	for _, k := range spec.Required {
		if strings.TrimSpace(ch.Settings.Get(k.Name)) == "" {
			ps.add(key+"."+k.Name, "required by transport %s: %s", ch.Transport, k.Help)
		}
	}
	if ch.Off == "" {
		for _, k := range d.Required {
			if strings.TrimSpace(ch.Settings.Get(k.Name)) == "" {
				ps.add(key+"."+k.Name, "required by channel %s: %s", d.Name, k.Help)
			}
		}
	}
	used := append(d.Keys(), spec.Keys()...)
	for _, k := range slices.Sorted(maps.Keys(ch.Settings)) {
		i := slices.IndexFunc(used, func(u outbound.Key) bool { return u.Name == k })
		switch {
		case i < 0 && ch.Settings[k] != "":
			unused(k)
		case i >= 0 && ch.Settings[k] != "":
			c.checkKey(ps, key+"."+k, used[i], ch.Settings[k])
		}
	}
	if ch.ConfirmWithin != 0 {
		if spec.Reports == "" {
			unused("confirm_within")
		} else {
			checkDuration(ps, key+".confirm_within", ch.ConfirmWithin)
		}
	}
	if spec.Check != nil {
		for _, p := range spec.Check(ch.Settings) {
			ps.add(key+"."+p.Key, "%s", p.Msg)
		}
	}

	k := ch.Cutoff
	if d.Batch == nil {
		if k.set() {
			var batch []string
			for _, b := range c.registered {
				if b.Batch != nil {
					batch = append(batch, b.Name)
				}
			}
			ps.add(key+".cutoff", "not used by channel %s: only the batch channels %s cut batch files", d.Name, strings.Join(batch, ", "))
		}
		return
	}
	for i, at := range k.Times {
		if _, err := time.Parse("15:04", at); err != nil || len(at) != 5 {
			ps.add(fmt.Sprintf("%s.cutoff.times[%d]", key, i), "%q: write a local time as HH:MM, like \"06:00\"", at)
		} else if slices.Index(k.Times, at) < i {
			ps.add(fmt.Sprintf("%s.cutoff.times[%d]", key, i), "%q is listed twice: list each time once", at)
		}
	}
	if k.MaxCount < 0 {
		ps.add(key+".cutoff.max_count", "%d: use a positive number of deliveries, or leave it out for no limit", k.MaxCount)
	}
}

// checkKey checks a transport key's value by its kind.
func (c *Config) checkKey(ps *problems, key string, k outbound.Key, v string) {
	switch k.Kind {
	case outbound.HostPort:
		checkAddr(ps, key, v)
	case outbound.URL:
		checkURL(ps, key, v)
	case outbound.File:
		c.checkFile(ps, key, v)
	case outbound.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			ps.add(key, "%q: write a duration with a unit, like \"4h\"", v)
		} else {
			checkDuration(ps, key, Duration(d))
		}
	case outbound.MailAddress:
		if _, err := mail.ParseAddress(v); err != nil {
			ps.add(key, "%q is not an email address: write it like \"Acme <faktura@acme.se>\"", v)
		}
	}
}

// applyChannelDefaults fills what a table left out: the spool transport,
// the workers, a batch channel's cut-off and the transport's key defaults.
func (c *Config) applyChannelDefaults() {
	for _, d := range c.registered {
		ch := c.Channels[d.Name]
		setString(&ch.Transport, outbound.Spool)
		if c.Delivery.Workers > 0 {
			setInt(&ch.Workers, c.Delivery.Workers)
		}
		if b := d.Batch; b != nil {
			if !ch.Cutoff.set() {
				ch.Cutoff.EndOfFile = true
			}
			// A batch file is built in memory from its documents: bound
			// it, so a file of 100,000 invoices becomes many batches, sent
			// while the rest is still being read.
			if ch.Cutoff.MaxCount == 0 {
				ch.Cutoff.MaxCount = b.MaxCount
			}
		}
		spec, _ := ch.TransportSpec()
		for _, k := range append(d.Keys(), spec.Keys()...) {
			if k.Default != "" && ch.Settings[k.Name] == "" {
				ch.Settings[k.Name] = k.Default
			}
		}
	}
}

// resolveChannelPaths makes the file and folder keys of every table
// absolute (see resolvePaths).
func (c *Config) resolveChannelPaths(file, dir func(*string)) {
	all := c.transportKeys()
	for _, ch := range c.Channels {
		kinds := all
		if spec, ok := ch.TransportSpec(); ok {
			kinds = map[string]outbound.Key{}
			for _, k := range append(ch.Descriptor.Keys(), spec.Keys()...) {
				kinds[k.Name] = k
			}
		}
		for name, v := range ch.Settings {
			switch kinds[name].Kind {
			case outbound.File:
				file(&v)
			case outbound.Dir:
				dir(&v)
			}
			ch.Settings[name] = v
		}
	}
}
