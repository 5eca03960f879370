// Package recipients reads the recipient-registration CSV: which payer wants
// (or no longer wants) which channel, from when. Billers import it with
// `multikanal recipients import` or drop it into the inbox; it is also the
// documented stand-in for the banks' daily e-faktura registration file,
// whose layout is not public (see docs/routing.md).
//
// One row per registration, a header naming the columns, semicolon or comma:
//
//	key;channel;address;valid_from;action
//	pnr:198112189876;efaktura;;2026-03-02;add
//	customer:10053;email;anna@example.se;;add
//	email:old@example.se;email;;;revoke
//
// key is TYPE:VALUE with TYPE one of customer, pnr, orgnr, peppol, email,
// mobile, kid; channel a channel name; address the channel address when the key
// is not already it; valid_from a date (empty: now); action add (default)
// or revoke.
package recipients

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// Row is one registration change.
type Row struct {
	Line      int       `json:"line"`
	KeyType   string    `json:"key_type"`
	Key       string    `json:"key"` // normalised
	Channel   string    `json:"channel"`
	Address   string    `json:"address,omitempty"`
	ValidFrom time.Time `json:"valid_from,omitzero"`
	Revoke    bool      `json:"revoke,omitempty"`
}

// Channel is a channel a registration may name: the gateway passes its
// registered distribution channels.
type Channel struct {
	Name string
	// Address is the key type whose value is itself the address on the
	// channel; "" when the address column must give it, or when the
	// channel needs none from the registry.
	Address string
	// Check, when set, checks an address; the address column is then
	// required unless the key is the address.
	Check func(address string) error
}

// KeyTypes are the ways a payer can be known.
var KeyTypes = []string{"customer", "pnr", "orgnr", "peppol", "email", "mobile", "kid"}

var header = []string{"key", "channel", "address", "valid_from", "action"}

// Sniff reports whether head starts with this format's header row.
func Sniff(head []byte) bool {
	line, _, _ := bytes.Cut(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), []byte("\n"))
	line = bytes.ToLower(bytes.TrimSpace(line))
	return bytes.HasPrefix(line, []byte("key;channel")) || bytes.HasPrefix(line, []byte("key,channel"))
}

// Error lists every bad line of a file; a file with errors is applied not at all.
type Error struct {
	Lines []LineError
}

// LineError is one bad line.
type LineError struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	s := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		s[i] = fmt.Sprintf("line %d: %s", l.Line, l.Msg)
	}
	return fmt.Sprintf("%d bad lines, nothing applied: %s", len(e.Lines), strings.Join(s, "; "))
}

// maxRows bounds one file; a registry import is not a bulk data load.
const maxRows = 1_000_000

// Parse reads the whole file, whose rows may name the channels given. It
// returns every row, or an *Error naming every bad line (and no rows): a
// file is applied whole or not at all.
func Parse(r io.Reader, now time.Time, channels []Channel) ([]Row, error) {
	br := bufio.NewReader(r)
	first, err := br.Peek(3)
	if err == nil && bytes.Equal(first, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, _ := br.Peek(4096)
	cr := csv.NewReader(br)
	cr.Comma = ';'
	if line, _, _ := bytes.Cut(head, []byte("\n")); !bytes.Contains(line, []byte(";")) && bytes.Contains(line, []byte(",")) {
		cr.Comma = ','
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("recipients: no header row: %w", err)
	}
	cols := map[string]int{}
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(name))
		if !contains(header, name) {
			return nil, fmt.Errorf("recipients: line 1: unknown column %q; the columns are %s", name, strings.Join(header, ", "))
		}
		if _, dup := cols[name]; dup {
			return nil, fmt.Errorf("recipients: line 1: column %q twice", name)
		}
		cols[name] = i
	}
	for _, need := range []string{"key", "channel"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("recipients: line 1: the header needs a %q column", need)
		}
	}
	var rows []Row
	bad := &Error{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad.Lines = append(bad.Lines, LineError{pe.Line, pe.Err.Error()})
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					continue
				}
			}
			return nil, fmt.Errorf("recipients: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rows)+len(bad.Lines) >= maxRows {
			return nil, fmt.Errorf("recipients: more than %d rows; split the file", maxRows)
		}
		get := func(name string) string {
			if i, ok := cols[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		row, err := parseRow(line, get, now, channels)
		if err != nil {
			bad.Lines = append(bad.Lines, LineError{line, err.Error()})
			continue
		}
		rows = append(rows, row)
	}
	if len(bad.Lines) > 0 {
		return nil, bad
	}
	return rows, nil
}

func parseRow(line int, get func(string) string, now time.Time, channels []Channel) (Row, error) {
	row := Row{Line: line}
	typ, value, ok := strings.Cut(get("key"), ":")
	if !ok || value == "" {
		return row, fmt.Errorf("key %q: write TYPE:VALUE, TYPE one of %s", get("key"), strings.Join(KeyTypes, ", "))
	}
	key, err := NormaliseKey(strings.ToLower(typ), value, now)
	if err != nil {
		return row, err
	}
	row.KeyType, row.Key = strings.ToLower(typ), key
	row.Channel = strings.ToLower(get("channel"))
	i := slices.IndexFunc(channels, func(c Channel) bool { return c.Name == row.Channel })
	if i < 0 {
		names := make([]string, len(channels))
		for i, c := range channels {
			names[i] = c.Name
		}
		return row, fmt.Errorf("channel %q: one of %s", get("channel"), strings.Join(names, ", "))
	}
	row.Address = get("address")
	if v := get("valid_from"); v != "" {
		d, err := formats.ParseDate(v)
		if err != nil {
			return row, fmt.Errorf("valid_from: %w", err)
		}
		row.ValidFrom = d.Time()
	}
	switch a := strings.ToLower(get("action")); a {
	case "", "add":
	case "revoke", "cancel":
		row.Revoke = true
	default:
		return row, fmt.Errorf("action %q: add or revoke", a)
	}
	if !row.Revoke {
		if err := checkAddress(row, channels[i], now); err != nil {
			return row, err
		}
	}
	return row, nil
}

// checkAddress makes sure the channel has somewhere to deliver: an address
// column, or a key that is the address itself; an address is checked as a
// key of the channel's address type would be.
func checkAddress(r Row, ch Channel, now time.Time) error {
	if ch.Address == "" && ch.Check == nil {
		return nil
	}
	addr := r.Address
	if addr == "" && ch.Address != "" && r.KeyType == ch.Address {
		addr = r.Key
	}
	switch {
	case addr == "" && ch.Address == "":
		return fmt.Errorf("%s needs an address: give it in the address column", r.Channel)
	case addr == "":
		return fmt.Errorf("%s needs an address: give it in the address column, or use a %s: key", r.Channel, ch.Address)
	}
	if ch.Address != "" {
		if _, err := NormaliseKey(ch.Address, addr, now); err != nil {
			return fmt.Errorf("%s needs a %s address (column address or a %s: key): %w", r.Channel, ch.Address, ch.Address, err)
		}
	}
	if ch.Check != nil {
		if err := ch.Check(addr); err != nil {
			return fmt.Errorf("%s: address %q: %w", r.Channel, addr, err)
		}
	}
	return nil
}

// NormaliseKey brings a key value to the one form the registry indexes:
// personnummer 12 digits, organisationsnummer 10, mobile E.164, e-mail
// lower case, customer numbers without leading zeros (AutoGiro files pad
// payer numbers to 16 digits). A KID (a Norwegian payment reference, the
// key of an AvtaleGiro mandate) keeps its leading zeros: 0000123455 and
// 123455 are two KIDs, and its check digit depends on every position.
func NormaliseKey(typ, value string, now time.Time) (string, error) {
	v := strings.TrimSpace(value)
	switch typ {
	case "customer":
		if formats.OnlyDigits(v) == v && v != "" {
			v = strings.TrimLeft(v, "0")
			if v == "" {
				v = "0"
			}
		}
		if v == "" || !utf8.ValidString(v) {
			return "", fmt.Errorf("customer number %q is empty", value)
		}
		return v, nil
	case "pnr":
		return formats.CheckPersonnummer(v, now)
	case "orgnr":
		return formats.CheckOrgnr(v)
	case "peppol":
		scheme, id, ok := strings.Cut(v, ":")
		if !ok || scheme == "" || id == "" {
			return "", fmt.Errorf("peppol id %q: write scheme:value, like 0007:5561234567", value)
		}
		return scheme + ":" + strings.ToLower(id), nil
	case "email":
		a, err := mail.ParseAddress(v)
		if err != nil {
			return "", fmt.Errorf("e-mail %q is not an address", value)
		}
		return strings.ToLower(a.Address), nil
	case "kid":
		k := strings.ReplaceAll(v, " ", "")
		if n := len(k); n < 2 || n > 25 || formats.OnlyDigits(k[:n-1]) != k[:n-1] || formats.OnlyDigits(k[n-1:]) == "" && k[n-1] != '-' {
			return "", fmt.Errorf("KID %q: 2 to 25 digits, the last a check digit (a hyphen under modulus 11)", value)
		}
		return k, nil
	case "mobile":
		m, ok := formats.SwedishMobile(v)
		if !ok {
			return "", fmt.Errorf("mobile %q is not a Swedish mobile number", value)
		}
		return m, nil
	}
	return "", fmt.Errorf("key type %q: one of %s", typ, strings.Join(KeyTypes, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
