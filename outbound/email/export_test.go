package email

import "time"

// SetNow fixes the clock that dates messages, for golden files.
func SetNow(c *Channel, now func() time.Time) { c.now = now }
