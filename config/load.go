package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/pelletier/go-toml/v2"
)

//go:embed default.toml
var defaultTOML []byte

// Load reads, decodes, completes and validates the configuration file at
// path, its [channel.NAME] tables against the registered channels (the
// caller passes outbound/channels.All()). Relative paths in the file
// resolve against the file's directory.
// Any problem, including an unknown key, is returned as an *Error listing
// every problem found.
func Load(path string, channels []outbound.Descriptor) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, dir, channels)
}

// Parse is Load on a document already in memory: name is the file name
// used in problems and baseDir the directory relative paths resolve
// against. The files that *_file keys name must exist.
func Parse(data []byte, name, baseDir string, channels []outbound.Descriptor) (*Config, error) {
	return parse(data, name, baseDir, false, channels)
}

// Default returns the embedded default configuration, which runs with no
// file at all: one tenant "demo", SFTP on 127.0.0.1:2222, HTTP on
// 127.0.0.1:8080 and every channel on its spool transport. Its data lives in
// dataDir ("./var" when empty) and its relative paths resolve against
// dataDir. A registered channel the file does not name runs on its spool
// transport too. The demo's key files are created by the daemon on first start, so
// they need not exist yet (Config.Embedded is set).
func Default(dataDir string, channels []outbound.Descriptor) *Config {
	if dataDir == "" {
		dataDir = "./var"
	}
	c, err := parse(defaultTOML, "embedded default", dataDir, true, channels)
	if err != nil {
		// default.toml is part of the binary and its test validates it.
		panic("config: embedded default is invalid: " + err.Error())
	}
	return c
}

func parse(data []byte, name, baseDir string, embedded bool, channels []outbound.Descriptor) (*Config, error) {
	idx, syntax := indexDocument(data)
	if syntax != nil {
		// A document that does not parse is not decoded: the index's
		// parse already has the error and its position.
		syntax.File = name
		return nil, &Error{Problems: []Problem{*syntax}}
	}
	ps := &problems{file: name, index: idx}
	if ps.checkTypes(); len(ps.list) > 0 {
		return nil, ps.err()
	}
	var c Config
	if err := c.register(channels); err != nil {
		return nil, &Error{Problems: []Problem{{File: name, Msg: err.Error()}}}
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			// The rest of the document was decoded: report the unknown
			// keys together with whatever else is wrong.
			for i := range strict.Errors {
				if !ps.channelKey(&c, &strict.Errors[i]) && !ps.agreementKey(&c, &strict.Errors[i]) {
					ps.unknownKey(&strict.Errors[i])
				}
			}
		case errors.As(err, &de):
			line, col := de.Position()
			key := ""
			if len(de.Key()) > 0 {
				key = ps.index.find(de.Key(), line)
			}
			msg := strings.TrimPrefix(de.Error(), "toml: ")
			return nil, &Error{Problems: []Problem{{File: name, Line: line, Column: col, Key: key, Msg: msg}}}
		default:
			return nil, &Error{Problems: []Problem{{File: name, Msg: err.Error()}}}
		}
	}
	ps.bindChannels(&c)
	ps.decodeAgreements(&c, data)
	c.Source = name
	c.Embedded = embedded
	c.applyDefaults(ps.index)
	c.resolvePaths(baseDir)
	c.validate(ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// unknownKey reports a key the schema does not have, with a hint: secrets
// are given by *_file keys, a near miss is probably a typo, otherwise the
// keys the table does have.
func (ps *problems) unknownKey(de *toml.DecodeError) {
	line, _ := de.Position()
	parts := []string(de.Key())
	key := ps.index.find(parts, line)
	msg := fmt.Sprintf("unknown key %q", key)
	if table := strings.Split(stripIndices(key), "."); key != "" {
		if hint := unknownKeyHint(table[:len(table)-1], table[len(table)-1]); hint != "" {
			msg += ": " + hint
		}
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Msg: msg})
}

// secretWords are key names that would hold a secret inline.
var secretWords = []string{"password", "secret", "token", "key", "passphrase", "password_hash", "client_secret", "seal_key"}

func unknownKeyHint(table []string, name string) string {
	return hintFor(name, schemaKeys(table))
}

// hintFor is the hint about an unknown key name in a table that has keys.
func hintFor(name string, keys []string) string {
	lname := strings.ToLower(name)
	for _, w := range secretWords {
		if lname != w && !strings.HasSuffix(lname, "_"+w) {
			continue
		}
		// Name the *_file key of this table that fits best.
		best := ""
		for _, k := range keys {
			if strings.HasSuffix(k, "_file") && strings.Contains(k, w) && (best == "" || len(k) < len(best)) {
				best = k
			}
		}
		if best == "" {
			best = name + "_file"
		}
		return fmt.Sprintf("secrets are given by %s, naming a file (or a systemd credential) that holds the secret; they are never written in the configuration", best)
	}
	if len(keys) == 0 {
		return ""
	}
	best, dist := "", 3
	for _, k := range keys {
		if d := formats.EditDistance(lname, k); d < dist {
			best, dist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "known keys here: " + strings.Join(keys, ", ")
}

// schemaKeys returns the keys of the table at path (array indices left
// out), read from the toml tags of Config, so hints never fall out of step
// with the structs.
func schemaKeys(path []string) []string {
	t := reflect.TypeOf(Config{})
	for _, part := range path {
		if t.Kind() == reflect.Map {
			// [channel.NAME]: any name, one type.
			t = t.Elem()
		} else {
			f, ok := fieldByTag(t, part)
			if !ok {
				return nil
			}
			t = f.Type
		}
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			return nil
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return schemaKeysOf(t)
}

// schemaKeysOf returns the toml keys of a struct type, sorted.
func schemaKeysOf(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := tomlName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	return keys
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tomlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tomlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}
