package formats

import "strings"

// Severity tells a problem that stops a document from one that is only reported.
type Severity string

// Severities: an error rejects the document (or, for channel rules, keeps it
// off that channel); a warning is recorded and shown but does not stop it.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one broken rule, named by its id (BR-CO-15, PEPPOL-EN16931-R010,
// SE-R-005, MK-OCR, ...) so a biller's accountant can look it up.
type Problem struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (p Problem) Error() string { return p.Rule + ": " + p.Message }

// Problems is a list of problems that is itself an error.
type Problems []Problem

// Errors returns only the problems of severity error.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == SeverityError {
			out = append(out, p)
		}
	}
	return out
}

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "; ")
}
