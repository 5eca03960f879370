package autogiro

import (
	"fmt"
	"time"
)

// Dataset names (manual 6.1.5): Bankgirot names files
// BFEP.<service>.K0<customer number>.D<YYMMDD>.T<HHMMSS>. Files to Bankgirot
// use IAGAG ("övrig kommunikation"; Bankgiro Link uses IBGLK), files from it
// UAGAG and UAGU3–UAGU8 by report; in customer tests IAGZZ and UAGZZ.

// UploadName returns the dataset name for a file to Bankgirot made at t by
// the biller with the given customer number; test selects the customer-test
// name (IAGZZ).
func UploadName(customerNumber string, t time.Time, test bool) (string, error) {
	service := "IAGAG"
	if test {
		service = "IAGZZ"
	}
	return datasetName(service, customerNumber, t)
}

// ReportService returns the service part of the dataset name Bankgirot gives
// a report of this kind ("UAGU4" for a mandate advice), or "" for the kinds
// a biller sends.
func (k FileKind) ReportService() string {
	return map[FileKind]string{
		KindPaymentSpecification: "UAGAG",
		KindBgMax:                "UAGAG",
		KindInternetMandates:     "UAGU3",
		KindMandateAdvice:        "UAGU4",
		KindAmendments:           "UAGU5",
		KindRejectedPayments:     "UAGU6",
		KindMandateRegister:      "UAGU7",
		KindPaymentRegister:      "UAGU8",
	}[k]
}

func datasetName(service, customerNumber string, t time.Time) (string, error) {
	if !isDigits([]byte(customerNumber)) || len(customerNumber) > 6 {
		return "", &Error{Rule: RuleWriteData, Msg: fmt.Sprintf("customer number %q: up to 6 digits", customerNumber)}
	}
	return fmt.Sprintf("BFEP.%s.K0%06s.D%s.T%s", service, customerNumber, t.Format("060102"), t.Format("150405")), nil
}
