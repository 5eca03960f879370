package upkeep

import "fmt"

// removeInput removes a claimed input file, from spool/ and from the
// payload store the nodes share when there is one; its size, or -1 when
// it was gone already.
func (u *Upkeep) removeInput(fileID string) (int64, error) {
	n, err := removeFile(u.spoolPath(fileID))
	if err != nil || u.Payloads == nil {
		return n, err
	}
	m, err := u.Payloads.RemoveInput(fileID)
	switch {
	case err != nil:
		return 0, fmt.Errorf("retention: %w", err)
	case m == 0:
		return n, nil
	}
	return max(n, 0) + m, nil
}
