package finvoice

import "encoding/xml"

// The Finvoice 3.0 elements this package writes and reads, as Go structs
// whose fields follow the order of Finvoice3.0.xsd's sequences (the schema
// has no namespace). encoding/xml writes fields in declaration order, so
// the order here is the order on the wire; an element the schema allows
// but this package never writes is left out. Amount, quantity and date
// values are kept as the schema's text (decimal comma, CCYYMMDD): the
// conversion from and to the canonical model is in write.go and read.go.

type message struct {
	XMLName      xml.Name         `xml:"Finvoice"`
	Version      string           `xml:"Version,attr"`
	XSI          string           `xml:"xmlns:xsi,attr,omitempty"`
	SchemaFile   string           `xml:"xsi:noNamespaceSchemaLocation,attr,omitempty"`
	Transmission *transmission    `xml:"MessageTransmissionDetails"`
	Seller       sellerParty      `xml:"SellerPartyDetails"`
	SellerUnit   string           `xml:"SellerOrganisationUnitNumber,omitempty"`
	SellerPerson string           `xml:"SellerContactPersonName,omitempty"`
	SellerComm   *sellerComm      `xml:"SellerCommunicationDetails"`
	SellerInfo   *sellerInfo      `xml:"SellerInformationDetails"`
	Buyer        buyerParty       `xml:"BuyerPartyDetails"`
	BuyerUnit    string           `xml:"BuyerOrganisationUnitNumber,omitempty"`
	BuyerPerson  string           `xml:"BuyerContactPersonName,omitempty"`
	BuyerComm    *buyerComm       `xml:"BuyerCommunicationDetails"`
	DeliveryTo   *deliveryParty   `xml:"DeliveryPartyDetails"`
	Delivery     *deliveryDetails `xml:"DeliveryDetails"`
	Details      invoiceDetails   `xml:"InvoiceDetails"`
	Rows         []invoiceRow     `xml:"InvoiceRow"`
	Epi          epiDetails       `xml:"EpiDetails"`
}

type transmission struct {
	Sender   senderDetails   `xml:"MessageSenderDetails"`
	Receiver receiverDetails `xml:"MessageReceiverDetails"`
	Message  messageDetails  `xml:"MessageDetails"`
}

type senderDetails struct {
	From          schemed `xml:"FromIdentifier"`
	Intermediator string  `xml:"FromIntermediator"`
}

type receiverDetails struct {
	To            schemed `xml:"ToIdentifier"`
	Intermediator string  `xml:"ToIntermediator"`
}

type messageDetails struct {
	ID            string `xml:"MessageIdentifier"`
	TimeStamp     string `xml:"MessageTimeStamp"`
	Specification string `xml:"SpecificationIdentifier,omitempty"`
}

// schemed is a value with an optional SchemeID attribute: an electronic
// address (ISO 6523 ICD or EAS code) or a party's legal identifier.
type schemed struct {
	Scheme string `xml:"SchemeID,attr,omitempty"`
	Value  string `xml:",chardata"`
}

type sellerParty struct {
	ID          *schemed       `xml:"SellerPartyIdentifier"`
	Names       []string       `xml:"SellerOrganisationName"`
	TradingName string         `xml:"SellerOrganisationTradingName,omitempty"`
	TaxCode     string         `xml:"SellerOrganisationTaxCode,omitempty"`
	Address     *sellerAddress `xml:"SellerPostalAddressDetails"`
}

type sellerAddress struct {
	Streets     []string `xml:"SellerStreetName"`
	Town        string   `xml:"SellerTownName"`
	PostCode    string   `xml:"SellerPostCodeIdentifier"`
	Subdivision string   `xml:"SellerCountrySubdivision,omitempty"`
	Country     string   `xml:"CountryCode,omitempty"`
}

type sellerComm struct {
	Phone string `xml:"SellerPhoneNumberIdentifier,omitempty"`
	Email string `xml:"SellerEmailaddressIdentifier,omitempty"`
}

type sellerInfo struct {
	TaxRegistration string          `xml:"SellerTaxRegistrationText,omitempty"`
	LegalInfo       string          `xml:"SellerAdditionalLegalInfo,omitempty"`
	Accounts        []sellerAccount `xml:"SellerAccountDetails"`
}

type sellerAccount struct {
	Account schemeNamed `xml:"SellerAccountID"`
	BIC     schemeNamed `xml:"SellerBic"`
	Name    string      `xml:"SellerAccountName,omitempty"`
}

// schemeNamed is a value with the IdentificationSchemeName attribute the
// account, BIC and reference elements carry (IBAN, BIC, SPY, ISO).
type schemeNamed struct {
	Scheme string `xml:"IdentificationSchemeName,attr,omitempty"`
	Value  string `xml:",chardata"`
}

type buyerParty struct {
	ID          *schemed      `xml:"BuyerPartyIdentifier"`
	Names       []string      `xml:"BuyerOrganisationName"`
	TradingName string        `xml:"BuyerOrganisationTradingName,omitempty"`
	TaxCode     string        `xml:"BuyerOrganisationTaxCode,omitempty"`
	Address     *buyerAddress `xml:"BuyerPostalAddressDetails"`
}

type buyerAddress struct {
	Streets     []string `xml:"BuyerStreetName"`
	Town        string   `xml:"BuyerTownName"`
	PostCode    string   `xml:"BuyerPostCodeIdentifier"`
	Subdivision string   `xml:"BuyerCountrySubdivision,omitempty"`
	Country     string   `xml:"CountryCode,omitempty"`
}

type buyerComm struct {
	Phone string `xml:"BuyerPhoneNumberIdentifier,omitempty"`
	Email string `xml:"BuyerEmailaddressIdentifier,omitempty"`
}

type deliveryParty struct {
	Names   []string        `xml:"DeliveryOrganisationName"`
	Address deliveryAddress `xml:"DeliveryPostalAddressDetails"`
}

type deliveryAddress struct {
	Streets     []string `xml:"DeliveryStreetName"`
	Town        string   `xml:"DeliveryTownName"`
	PostCode    string   `xml:"DeliveryPostCodeIdentifier"`
	Subdivision string   `xml:"DeliveryCountrySubdivision,omitempty"`
	Country     string   `xml:"CountryCode,omitempty"`
}

type deliveryDetails struct {
	Date *date `xml:"DeliveryDate"`
}

type invoiceDetails struct {
	TypeCode         typeCode          `xml:"InvoiceTypeCode"`
	TypeCodeUN       string            `xml:"InvoiceTypeCodeUN,omitempty"`
	TypeText         string            `xml:"InvoiceTypeText"`
	OriginCode       string            `xml:"OriginCode"`
	Number           string            `xml:"InvoiceNumber"`
	Date             date              `xml:"InvoiceDate"`
	OriginalNumber   string            `xml:"OriginalInvoiceNumber,omitempty"`
	OriginalDate     *date             `xml:"OriginalInvoiceDate"`
	OriginalRefs     []originalRef     `xml:"OriginalInvoiceReference"`
	PeriodStart      *date             `xml:"InvoicingPeriodStartDate"`
	PeriodEnd        *date             `xml:"InvoicingPeriodEndDate"`
	SellerReference  string            `xml:"SellerReferenceIdentifier,omitempty"`
	SellersBuyerID   string            `xml:"SellersBuyerIdentifier,omitempty"`
	OrderID          string            `xml:"OrderIdentifier,omitempty"`
	AgreementID      string            `xml:"AgreementIdentifier,omitempty"`
	BuyerReference   string            `xml:"BuyerReferenceIdentifier,omitempty"`
	ProjectReference string            `xml:"ProjectReferenceIdentifier,omitempty"`
	RowsTotal        *amount           `xml:"RowsTotalVatExcludedAmount"`
	DiscountsTotal   *amount           `xml:"DiscountsTotalVatExcludedAmount"`
	ChargesTotal     *amount           `xml:"ChargesTotalVatExcludedAmount"`
	TotalVatExcluded *amount           `xml:"InvoiceTotalVatExcludedAmount"`
	TotalVat         *amount           `xml:"InvoiceTotalVatAmount"`
	TotalVatIncluded amount            `xml:"InvoiceTotalVatIncludedAmount"`
	Roundoff         *amount           `xml:"InvoiceTotalRoundoffAmount"`
	Paid             *amount           `xml:"InvoicePaidAmount"`
	AccountDimension string            `xml:"AccountDimensionText,omitempty"`
	VAT              []vatDetails      `xml:"VatSpecificationDetails"`
	FreeText         []string          `xml:"InvoiceFreeText"`
	PaymentTerms     []paymentTerms    `xml:"PaymentTermsDetails"`
	Discounts        []discountDetails `xml:"DiscountDetails"`
	Charges          []chargeDetails   `xml:"ChargeDetails"`
}

type typeCode struct {
	Agency string `xml:"CodeListAgencyIdentifier,attr,omitempty"`
	Value  string `xml:",chardata"`
}

type originalRef struct {
	Number string `xml:"InvoiceNumber,omitempty"`
	Date   *date  `xml:"InvoiceDate"`
}

type vatDetails struct {
	Base            *amount  `xml:"VatBaseAmount"`
	RatePercent     string   `xml:"VatRatePercent,omitempty"`
	Code            string   `xml:"VatCode,omitempty"`
	RateAmount      *amount  `xml:"VatRateAmount"`
	FreeText        []string `xml:"VatFreeText"`
	ExemptionReason string   `xml:"VatExemptionReasonCode,omitempty"`
}

type paymentTerms struct {
	FreeText []string `xml:"PaymentTermsFreeText"`
	DueDate  *date    `xml:"InvoiceDueDate"`
}

type discountDetails struct {
	FreeText   string  `xml:"FreeText,omitempty"`
	ReasonCode string  `xml:"ReasonCode,omitempty"`
	Percent    string  `xml:"Percent,omitempty"`
	Amount     *amount `xml:"Amount"`
	BaseAmount *amount `xml:"BaseAmount"`
	VatCode    string  `xml:"VatCategoryCode,omitempty"`
	VatPercent string  `xml:"VatRatePercent,omitempty"`
}

type chargeDetails struct {
	ReasonText string  `xml:"ReasonText,omitempty"`
	ReasonCode string  `xml:"ReasonCode,omitempty"`
	Percent    string  `xml:"Percent,omitempty"`
	Amount     *amount `xml:"Amount"`
	BaseAmount *amount `xml:"BaseAmount"`
	VatCode    string  `xml:"VatCategoryCode,omitempty"`
	VatPercent string  `xml:"VatRatePercent,omitempty"`
}

type invoiceRow struct {
	ArticleID         string        `xml:"ArticleIdentifier,omitempty"`
	ArticleName       string        `xml:"ArticleName,omitempty"`
	ArticleText       string        `xml:"ArticleDescription,omitempty"`
	BuyerArticleID    string        `xml:"BuyerArticleIdentifier,omitempty"`
	EanCode           *schemed      `xml:"EanCode"`
	Quantity          *quantity     `xml:"InvoicedQuantity"`
	StartDate         *date         `xml:"StartDate"`
	EndDate           *date         `xml:"EndDate"`
	UnitPrice         *unitAmount   `xml:"UnitPriceAmount"`
	UnitPriceBase     *quantity     `xml:"UnitPriceBaseQuantity"`
	OrderPosition     string        `xml:"RowOrderPositionIdentifier,omitempty"`
	Position          string        `xml:"RowPositionIdentifier,omitempty"`
	AccountDimension  string        `xml:"RowAccountDimensionText,omitempty"`
	FreeText          []string      `xml:"RowFreeText"`
	Discounts         []rowDiscount `xml:"RowProgressiveDiscountDetails"`
	Charges           []rowCharge   `xml:"RowChargeDetails"`
	VatRatePercent    string        `xml:"RowVatRatePercent,omitempty"`
	VatCode           string        `xml:"RowVatCode,omitempty"`
	VatExcludedAmount *amount       `xml:"RowVatExcludedAmount"`
}

type rowDiscount struct {
	Percent    string  `xml:"RowDiscountPercent,omitempty"`
	Amount     *amount `xml:"RowDiscountAmount"`
	BaseAmount *amount `xml:"RowDiscountBaseAmount"`
	TypeCode   string  `xml:"RowDiscountTypeCode,omitempty"`
	TypeText   string  `xml:"RowDiscountTypeText,omitempty"`
}

type rowCharge struct {
	ReasonText string  `xml:"ReasonText,omitempty"`
	ReasonCode string  `xml:"ReasonCode,omitempty"`
	Percent    string  `xml:"Percent,omitempty"`
	Amount     *amount `xml:"Amount"`
	BaseAmount *amount `xml:"BaseAmount"`
}

type epiDetails struct {
	Identification epiIdentification `xml:"EpiIdentificationDetails"`
	Party          epiParty          `xml:"EpiPartyDetails"`
	Instruction    epiInstruction    `xml:"EpiPaymentInstructionDetails"`
}

type epiIdentification struct {
	Date      date   `xml:"EpiDate"`
	Reference string `xml:"EpiReference"`
}

type epiParty struct {
	Bfi         epiBfi         `xml:"EpiBfiPartyDetails"`
	Beneficiary epiBeneficiary `xml:"EpiBeneficiaryPartyDetails"`
}

type epiBfi struct {
	BIC *schemeNamed `xml:"EpiBfiIdentifier"`
}

type epiBeneficiary struct {
	Name    string      `xml:"EpiNameAddressDetails,omitempty"`
	BEI     string      `xml:"EpiBei,omitempty"`
	Account schemeNamed `xml:"EpiAccountID"`
}

type epiInstruction struct {
	Reference *schemeNamed `xml:"EpiRemittanceInfoIdentifier"`
	Amount    amount       `xml:"EpiInstructedAmount"`
	Charge    schemeCharge `xml:"EpiCharge"`
	DueDate   date         `xml:"EpiDateOptionDate"`
	MeansCode string       `xml:"EpiPaymentMeansCode,omitempty"`
	MeansText string       `xml:"EpiPaymentMeansText,omitempty"`
}

type schemeCharge struct {
	Option string `xml:"ChargeOption,attr"`
	Value  string `xml:",chardata"`
}

// amount is every amount element: the value with a decimal comma and the
// currency attribute the schema requires.
type amount struct {
	Currency string `xml:"AmountCurrencyIdentifier,attr"`
	Value    string `xml:",chardata"`
}

type unitAmount struct {
	Currency string `xml:"AmountCurrencyIdentifier,attr"`
	UnitUN   string `xml:"QuantityUnitCodeUN,attr,omitempty"`
	Value    string `xml:",chardata"`
}

type quantity struct {
	UnitUN string `xml:"QuantityUnitCodeUN,attr,omitempty"`
	Value  string `xml:",chardata"`
}

// date is every date element: CCYYMMDD with the Format attribute saying so.
type date struct {
	Format string `xml:"Format,attr"`
	Value  string `xml:",chardata"`
}
