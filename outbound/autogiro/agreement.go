package autogiro

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/multikanal/multikanal/formats"
	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/outbound"
)

// Agreement is a biller's AutoGiro agreement with Bankgirot: the tenant's
// [tenant.autogiro] table, decoded by the descriptor's Agreement.
type Agreement struct {
	// CustomerNumber is the customer number (kundnummer) Bankgirot gave
	// the agreement, 6 digits: in every file's opening record and name.
	CustomerNumber string `toml:"customer_number"`
	// Bankgiro is the payee bankgiro of the agreement; the tenant's own
	// bankgiro when left out. Check makes it digits.
	Bankgiro string `toml:"bankgiro"`
	// SealKeyFile is a file (or systemd credential) holding the 32
	// hexadecimal digit seal key Bankgirot issued for the agreement. It is
	// read when a file is sealed, so a rotated key is used at once.
	SealKeyFile string `toml:"seal_key_file"`
	// RefundCreditNotes pays credit notes for payers with a mandate back
	// into their account as AutoGiro deposits (TK32), where the biller's
	// agreement with Bankgirot allows it.
	RefundCreditNotes bool `toml:"refund_credit_notes"`
	// Test is Bankgirot's customer test (manual 6.1.5): files are named
	// BFEP.IAGZZ instead of BFEP.IAGAG. A seal key file holding Bankgirot's
	// published test key requires it.
	Test bool `toml:"test"`

	// embedded: the embedded default, whose seal key file the daemon
	// writes on its first start (EmbeddedFiles).
	embedded bool
}

// Prepare takes the tenant's bankgiro when the agreement names none and
// resolves the seal key file as the configuration's other files.
func (a *Agreement) Prepare(s outbound.AgreementSetup) {
	if a.Bankgiro == "" {
		a.Bankgiro = s.Bankgiro
	}
	if a.SealKeyFile != "" && s.Path != nil {
		a.SealKeyFile = s.Path(a.SealKeyFile)
	}
	a.embedded = s.Embedded
}

// Check checks the agreement, naming the key that is wrong, and writes the
// bankgiro as digits.
func (a *Agreement) Check() error {
	var errs []error
	if len(a.CustomerNumber) != 6 || formats.OnlyDigits(a.CustomerNumber) != a.CustomerNumber {
		errs = append(errs, fmt.Errorf("customer_number %q: the AutoGiro customer number (kundnummer) from Bankgirot has 6 digits, like \"471117\"", a.CustomerNumber))
	}
	if a.Bankgiro == "" {
		errs = append(errs, errors.New("bankgiro: required: the payee bankgiro of the AutoGiro agreement; set it here or set the tenant's bankgiro"))
	} else if bg, err := formats.CheckBankgiro(a.Bankgiro); err != nil {
		errs = append(errs, fmt.Errorf("bankgiro: %w", err))
	} else {
		a.Bankgiro = bg
	}
	switch {
	case a.SealKeyFile == "":
		errs = append(errs, errors.New("seal_key_file: required: a file holding the 32 hex digit seal key Bankgirot issued for the agreement"))
	case a.embedded:
		// The daemon writes it on its first start.
	default:
		f, err := os.Open(a.SealKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("seal_key_file: %s: create the file or correct the path", strings.TrimPrefix(err.Error(), "open ")))
			break
		}
		fi, err := f.Stat()
		f.Close()
		if err == nil && !fi.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("seal_key_file: %s is not a regular file: name the file itself", a.SealKeyFile))
			break
		}
		// A file sealed with the public test key is a test file: in
		// production Bankgirot would refuse it, so it must carry the
		// customer-test name.
		if key, err := a.sealKey(); err == nil && !a.Test && strings.EqualFold(key, ag.TestSealKey) {
			errs = append(errs, errors.New("test: the seal key file holds Bankgirot's published test key: set test = true (files are named for Bankgirot's customer test, IAGZZ) or use the key Bankgirot issued for the agreement"))
		}
	}
	return errors.Join(errs...)
}

// sealKey reads the seal key from its file.
func (a *Agreement) sealKey() (string, error) {
	b, err := os.ReadFile(a.SealKeyFile)
	if err != nil {
		return "", err
	}
	key := string(bytes.TrimSpace(b))
	if key == "" {
		return "", fmt.Errorf("%s is empty: write the seal key into it", a.SealKeyFile)
	}
	return key, nil
}

// EmbeddedFiles is Bankgirot's published test key in the embedded
// default's seal key file, so Bankgirot's own example files verify and the
// demo's files are sealed (test = true names them for the customer test).
func (a *Agreement) EmbeddedFiles() map[string][]byte {
	if a.SealKeyFile == "" {
		return nil
	}
	return map[string][]byte{a.SealKeyFile: []byte(ag.TestSealKey + "\n")}
}

// PayeeBankgiros is the agreement's payee bankgiro: invoices may name it
// (MK-ACCOUNT).
func (a *Agreement) PayeeBankgiros() []string {
	if a.Bankgiro == "" {
		return nil
	}
	return []string{a.Bankgiro}
}

// String names the agreement in `multikanal check`'s summary.
func (a *Agreement) String() string { return "customer number " + a.CustomerNumber }

// agreements are the tenants' agreements as Env.Agreements hands them.
func agreements(env map[string]any) map[string]*Agreement {
	out := map[string]*Agreement{}
	for tenant, v := range env {
		if a, ok := v.(*Agreement); ok {
			out[tenant] = a
		}
	}
	return out
}
