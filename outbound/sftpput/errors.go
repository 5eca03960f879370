package sftpput

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/pkg/sftp"

	"github.com/multikanal/multikanal/outbound"
)

// fail classifies a failed SFTP request on path p. The rule: what the
// receiver must change (a folder that is missing or not ours to write, a
// request it does not support) is permanent; everything else, above all
// SSH_FX_FAILURE, which is what OpenSSH answers for a full disk (it sends
// no errno text), is temporary.
func (c *conn) fail(op, p string, err error) error {
	msg := fmt.Sprintf("%s: %s %s", c.t.where(), op, p)
	if c.ctx.Err() != nil || isNetErr(err) {
		return classifyNet(c.ctx, msg, err)
	}
	switch {
	case isPermission(err):
		return outbound.Permanent(fmt.Errorf("%s: permission denied: user %q may not write there; "+
			"ask the receiver for write access, or correct remote_dir %q: %w", msg, c.t.opt.User, c.t.opt.RemoteDir, err))
	case errors.Is(err, os.ErrNotExist) || hasCode(err, sftp.ErrSSHFxNoSuchFile):
		return outbound.Permanent(fmt.Errorf("%s: not found: check that remote_dir %q exists on the server: %w",
			msg, c.t.opt.RemoteDir, err))
	case hasCode(err, sftp.ErrSSHFxOpUnsupported), hasCode(err, sftp.ErrSSHFxBadMessage):
		return outbound.Permanent(fmt.Errorf("%s: the server does not support the request: %w", msg, err))
	case hasCode(err, sftp.ErrSSHFxFailure):
		return outbound.Temporary(fmt.Errorf("%s: the server failed (a full disk looks like this): %w", msg, err))
	}
	return outbound.Temporary(fmt.Errorf("%s: %w", msg, err))
}

// classifyNet classifies a failure of the connection itself: always
// temporary. When ctx is done its error is named, since the socket error
// it caused (we closed the socket) says nothing useful.
func classifyNet(ctx context.Context, msg string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return outbound.Temporary(fmt.Errorf("%s: %w (%w)", msg, cerr, err))
	}
	return outbound.Temporary(fmt.Errorf("%s: %w", msg, err))
}

// hasCode reports whether err is an SFTP status with code.
func hasCode(err error, code error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == code
}

// isPermission reports a permission denied status; pkg/sftp turns it into
// os.ErrPermission for some requests and not for others.
func isPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || hasCode(err, sftp.ErrSSHFxPermissionDenied)
}

// isNetErr reports an error of the connection rather than of a request.
func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || hasCode(err, sftp.ErrSSHFxConnectionLost) || hasCode(err, sftp.ErrSSHFxNoConnection)
}
