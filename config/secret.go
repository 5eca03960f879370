package config

import (
	"bytes"
	"fmt"
	"os"
)

// ReadSecret reads a secret named by a *_file key. A relative path is
// first looked up in $CREDENTIALS_DIRECTORY, where systemd puts the
// credentials of LoadCredential=; Load has already resolved the paths in a
// configuration this way, so it matters only for paths from elsewhere. One
// trailing newline (as editors and `echo` leave) is removed. An empty
// secret is an error: it is always a mistake, and sending it would only
// fail later with a less helpful message.
//
// ReadSecret does not check the file's mode; keep secrets readable by the
// service user only, or use LoadCredential=, which does so.
func ReadSecret(path string) ([]byte, error) {
	if p, ok := credentialPath(path); ok {
		path = p
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("secret %s: the file is empty: write the secret into it", path)
	}
	return b, nil
}
