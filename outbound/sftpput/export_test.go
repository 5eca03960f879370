package sftpput

import "context"

// CheckSize logs in and runs the size check of an upload on remote path p,
// so a test can show a wrong size without a server that lies about one.
func CheckSize(ctx context.Context, t *Transport, p string, want int64) error {
	c, err := t.dial(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	return c.checkSize(p, want)
}
