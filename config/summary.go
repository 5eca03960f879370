package config

import (
	"fmt"
	"strings"
)

// Summary describes the configuration in a few lines for the success
// output of `multikanal check`: where it came from, the listen addresses,
// the tenants and what each channel runs on.
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: OK\n", c.Source)
	fmt.Fprintf(&b, "data_dir %s\n", c.DataDir)
	fmt.Fprintf(&b, "sftp     %s\n", orOff(c.SFTP.Listen))
	fmt.Fprintf(&b, "http     %s\n", orOff(c.HTTP.Listen))
	fmt.Fprintf(&b, "public   %s\n", orOff(c.Public.Listen))
	quota := "off"
	if c.Store.MaxSize > 0 {
		quota = c.Store.MaxSize.String()
	}
	fmt.Fprintf(&b, "retention %s; store quota %s\n", c.Retention, quota)
	fmt.Fprintf(&b, "store    %s\n", c.Store.Describe())
	for _, t := range c.Tenants {
		fmt.Fprintf(&b, "tenant %s (%s, %s): %s", t.ID, t.Name, t.Orgnr, strings.Join(t.Priority, ", "))
		if t.Open {
			b.WriteString("; open: any seller, any account")
		} else {
			fmt.Fprintf(&b, "; seller %s, paid to %s", t.SellerOrgnr, strings.Join(t.Accounts(), ", "))
		}
		for _, name := range c.ChannelNames() {
			if a, ok := t.Agreements[name]; ok {
				if s, ok := a.(fmt.Stringer); ok {
					fmt.Fprintf(&b, "; %s agreement (%s)", name, s)
				} else {
					fmt.Fprintf(&b, "; %s agreement", name)
				}
			}
		}
		if r := c.RetentionFor(t.ID); r != c.Retention {
			fmt.Fprintf(&b, "; retention %s", r)
		}
		b.WriteByte('\n')
	}
	for _, name := range c.ChannelNames() {
		ch := c.ChannelConfig(name)
		s := ch.Settings
		if ch.Off != "" {
			fmt.Fprintf(&b, "channel %-8s off (%s)\n", name, ch.Off)
			continue
		}
		fmt.Fprintf(&b, "channel %-8s %s", name, ch.Transport)
		switch {
		case s.Get("addr") != "":
			fmt.Fprintf(&b, " %s", s.Get("addr"))
		case s.Get("base_url") != "":
			fmt.Fprintf(&b, " %s", s.Get("base_url"))
		case s.Get("dir") != "":
			fmt.Fprintf(&b, " %s", s.Get("dir"))
		}
		if s.Get("remote_dir") != "" {
			fmt.Fprintf(&b, ":%s", s.Get("remote_dir"))
		}
		if ch.Descriptor.Batch != nil {
			fmt.Fprintf(&b, ", cutoff %s", ch.Cutoff)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func orOff(listen string) string {
	if listen == "" {
		return "off"
	}
	return listen
}

// String describes when a batch is cut: "end of file", "06:00, 14:00",
// "max 500".
func (k Cutoff) String() string {
	var parts []string
	if k.EndOfFile {
		parts = append(parts, "end of file")
	}
	parts = append(parts, k.Times...)
	if k.MaxCount > 0 {
		parts = append(parts, fmt.Sprintf("max %d", k.MaxCount))
	}
	return strings.Join(parts, ", ")
}
