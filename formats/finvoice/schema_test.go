package finvoice

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

// The content models below are Finvoice3.0.xsd's (Finance Finland; read
// in the copy marked "Modified 30.11.2020". In December 2020 Finance
// Finland reinstated the schema of November 2019, which differs only in
// allowing three decimals in a percentage instead of four; the percentage
// rule below takes the stricter three), reduced to the aggregates this package writes: for each, every child the
// schema allows, in the schema's order, with its occurrence bounds and its
// type. They were extracted from the schema mechanically, so the element
// names, bounds and type names are the schema's own. The leaf types are
// checked by the rules in leafProblem, which restate the schema's simple
// types (lengths, patterns, enumerations, required attributes). This
// check runs everywhere; TestXSD below also validates against the schema
// file itself with xmllint where both are present.
type particle struct {
	name     string
	min, max int // max unb: unbounded
	typ      string
}

const unb = -1

var models = map[string][]particle{
	"Finvoice": {
		{"MessageTransmissionDetails", 0, 1, "MessageTransmissionDetailsType"}, {"SellerPartyDetails", 1, 1, "SellerPartyDetailsType"}, {"SellerOrganisationUnitNumber", 0, 1, "genericStringType0_35"},
		{"SellerSiteCode", 0, 1, "genericStringType0_35"}, {"SellerContactPersonName", 0, 1, "genericStringType0_70"}, {"SellerContactPersonFunction", 0, 2, "genericStringType0_35"},
		{"SellerContactPersonDepartment", 0, 2, "genericStringType0_35"}, {"SellerCommunicationDetails", 0, 1, "SellerCommunicationDetailsType"}, {"SellerInformationDetails", 0, 1, "SellerInformationDetailsType"},
		{"InvoiceSenderPartyDetails", 0, 1, "InvoiceSenderPartyDetailsType"}, {"InvoiceRecipientPartyDetails", 0, 1, "InvoiceRecipientPartyDetailsType"}, {"InvoiceRecipientOrganisationUnitNumber", 0, 1, "genericStringType0_35"},
		{"InvoiceRecipientSiteCode", 0, 1, "genericStringType0_35"}, {"InvoiceRecipientContactPersonName", 0, 1, "genericStringType0_70"}, {"InvoiceRecipientContactPersonFunction", 0, 2, "genericStringType0_35"},
		{"InvoiceRecipientContactPersonDepartment", 0, 2, "genericStringType0_35"}, {"InvoiceRecipientLanguageCode", 0, 1, "LanguageCodeType"}, {"InvoiceRecipientCommunicationDetails", 0, 1, "InvoiceRecipientCommunicationDetailsType"},
		{"BuyerPartyDetails", 1, 1, "BuyerPartyDetailsType"}, {"BuyerOrganisationUnitNumber", 0, 1, "genericStringType0_35"}, {"BuyerSiteCode", 0, 1, "genericStringType0_35"},
		{"BuyerContactPersonName", 0, 1, "genericStringType0_70"}, {"BuyerContactPersonFunction", 0, 2, "genericStringType0_35"}, {"BuyerContactPersonDepartment", 0, 2, "genericStringType0_35"},
		{"BuyerCommunicationDetails", 0, 1, "BuyerCommunicationDetailsType"}, {"DeliveryPartyDetails", 0, 1, "DeliveryPartyDetailsType"}, {"DeliveryOrganisationUnitNumber", 0, 1, "genericStringType0_35"},
		{"DeliverySiteCode", 0, 1, "genericStringType0_35"}, {"DeliveryContactPersonName", 0, 1, "genericStringType0_70"}, {"DeliveryContactPersonFunction", 0, 2, "genericStringType0_35"},
		{"DeliveryContactPersonDepartment", 0, 2, "genericStringType0_35"}, {"DeliveryCommunicationDetails", 0, 1, "DeliveryCommunicationDetailsType"}, {"DeliveryDetails", 0, 1, "DeliveryDetailsType"},
		{"AnyPartyDetails", 0, unb, "AnyPartyDetailsType"}, {"InvoiceDetails", 1, 1, "InvoiceDetailsType"}, {"PaymentCardInfo", 0, 1, "PaymentCardInfoType"},
		{"DirectDebitInfo", 0, 1, "DirectDebitInfoType"}, {"PaymentStatusDetails", 0, 1, "PaymentStatusDetailsType"}, {"PartialPaymentDetails", 0, unb, "PartialPaymentDetailsType"},
		{"FactoringAgreementDetails", 0, 1, "FactoringAgreementDetailsType"}, {"VirtualBankBarcode", 0, 1, "genericStringType0_512"}, {"InvoiceRow", 1, unb, "InvoiceRowType"},
		{"SpecificationDetails", 0, 1, "SpecificationDetailsType"}, {"EpiDetails", 1, 1, "EpiDetailsType"}, {"InvoiceUrlNameText", 0, unb, "genericStringType0_512"},
		{"InvoiceUrlText", 0, unb, "genericStringType0_512"}, {"StorageUrlText", 0, 1, "genericStringType0_512"}, {"LayOutIdentifier", 0, 1, "genericStringType0_35"},
		{"InvoiceSegmentIdentifier", 0, 1, "genericStringType0_35"}, {"ControlChecksum", 0, 1, "genericStringType0_512"}, {"MessageChecksum", 0, 1, "genericStringType0_512"},
		{"ControlStampText", 0, 1, "genericStringType0_512"}, {"AcceptanceStampText", 0, 1, "genericStringType0_512"}, {"OriginalInvoiceFormat", 0, 1, "genericStringType0_35"},
		{"AttachmentMessageDetails", 0, 1, "AttachmentMessageDetailsType"},
	},
	"MessageTransmissionDetails": {
		{"MessageSenderDetails", 1, 1, "complex"}, {"MessageReceiverDetails", 1, 1, "complex"}, {"MessageDetails", 1, 1, "complex"},
	},
	"MessageSenderDetails": {
		{"FromIdentifier", 1, 1, "ElectronicAddrIdType"}, {"FromIntermediator", 1, 1, "genericStringType2_35"},
	},
	"MessageReceiverDetails": {
		{"ToIdentifier", 1, 1, "ElectronicAddrIdType"}, {"ToIntermediator", 1, 1, "genericStringType2_35"},
	},
	"MessageDetails": {
		{"MessageIdentifier", 1, 1, "genericStringType2_48"}, {"MessageTimeStamp", 1, 1, "xs:dateTime"}, {"RefToMessageIdentifier", 0, 1, "genericStringType0_48"},
		{"ImplementationCode", 0, 1, "genericStringType0_4"}, {"SpecificationIdentifier", 0, 1, "genericStringType1_35"},
	},
	"SellerPartyDetails": {
		{"SellerPartyIdentifier", 0, 1, "PartyLegalRegIdType"}, {"SellerPartyIdentifierUrlText", 0, 1, "genericStringType0_512"}, {"SellerOrganisationName", 1, unb, "genericStringType2_70"},
		{"SellerOrganisationTradingName", 0, 1, "genericStringType2_70"}, {"SellerOrganisationDepartment", 0, 2, "genericStringType0_35"}, {"SellerOrganisationTaxCode", 0, 1, "genericStringType0_35"},
		{"SellerOrganisationTaxCodeUrlText", 0, 1, "genericStringType0_512"}, {"SellerCode", 0, unb, "PartyIdentifierType"}, {"SellerPostalAddressDetails", 0, 1, "SellerPostalAddressDetailsType"},
	},
	"SellerPostalAddressDetails": {
		{"SellerStreetName", 1, 3, "genericStringType2_35"}, {"SellerTownName", 1, 1, "genericStringType2_35"}, {"SellerPostCodeIdentifier", 1, 1, "genericStringType2_35"},
		{"SellerCountrySubdivision", 0, 1, "genericStringType2_35"}, {"CountryCode", 0, 1, "CountryCodeType"}, {"CountryName", 0, 1, "genericStringType0_35"},
		{"SellerPostOfficeBoxIdentifier", 0, 1, "genericStringType0_35"},
	},
	"SellerCommunicationDetails": {
		{"SellerPhoneNumberIdentifier", 0, 1, "genericStringType0_35"}, {"SellerEmailaddressIdentifier", 0, 1, "genericStringType0_70"},
	},
	"SellerInformationDetails": {
		{"SellerOfficialPostalAddressDetails", 0, 1, "complex"}, {"SellerHomeTownName", 0, 1, "genericStringType0_35"}, {"SellerVatRegistrationText", 0, 1, "genericStringType0_35"},
		{"SellerVatRegistrationDate", 0, 1, "date"}, {"SellerTaxRegistrationText", 0, 1, "genericStringType0_35"}, {"SellerAdditionalLegalInfo", 0, 1, "genericStringType0_512"},
		{"SellerPhoneNumber", 0, 1, "genericStringType0_35"}, {"SellerFaxNumber", 0, 1, "genericStringType0_35"}, {"SellerCommonEmailaddressIdentifier", 0, 1, "genericStringType0_70"},
		{"SellerWebaddressIdentifier", 0, 1, "genericStringType0_70"}, {"SellerFreeText", 0, 1, "genericStringType0_512"}, {"SellerAccountDetails", 0, unb, "SellerAccountDetailsType"},
		{"InvoiceRecipientDetails", 0, unb, "InvoiceRecipientDetailsType"},
	},
	"SellerAccountDetails": {
		{"SellerAccountID", 1, 1, "SellerAccountIDType"}, {"SellerBic", 1, 1, "SellerBicType"}, {"SellerAccountName", 0, 1, "genericStringType1_70"},
	},
	"BuyerPartyDetails": {
		{"BuyerPartyIdentifier", 0, 1, "PartyLegalRegIdType"}, {"BuyerOrganisationName", 1, unb, "genericStringType2_70"}, {"BuyerOrganisationTradingName", 0, 1, "genericStringType2_70"},
		{"BuyerOrganisationDepartment", 0, 2, "genericStringType0_35"}, {"BuyerOrganisationTaxCode", 0, 1, "genericStringType0_35"}, {"BuyerCode", 0, 1, "PartyIdentifierType"},
		{"BuyerPostalAddressDetails", 0, 1, "BuyerPostalAddressDetailsType"},
	},
	"BuyerPostalAddressDetails": {
		{"BuyerStreetName", 1, 3, "genericStringType2_35"}, {"BuyerTownName", 1, 1, "genericStringType2_35"}, {"BuyerPostCodeIdentifier", 1, 1, "genericStringType2_35"},
		{"BuyerCountrySubdivision", 0, 1, "genericStringType2_35"}, {"CountryCode", 0, 1, "CountryCodeType"}, {"CountryName", 0, 1, "genericStringType0_35"},
		{"BuyerPostOfficeBoxIdentifier", 0, 1, "genericStringType0_35"},
	},
	"BuyerCommunicationDetails": {
		{"BuyerPhoneNumberIdentifier", 0, 1, "genericStringType0_35"}, {"BuyerEmailaddressIdentifier", 0, 1, "genericStringType0_70"},
	},
	"DeliveryPartyDetails": {
		{"DeliveryPartyIdentifier", 0, 1, "PartyLegalRegIdType"}, {"DeliveryOrganisationName", 1, unb, "genericStringType2_35"}, {"DeliveryOrganisationDepartment", 0, 2, "genericStringType0_35"},
		{"DeliveryOrganisationTaxCode", 0, 1, "genericStringType0_35"}, {"DeliveryCode", 0, 1, "PartyIdentifierType"}, {"DeliveryPostalAddressDetails", 1, 1, "DeliveryPostalAddressDetailsType"},
	},
	"DeliveryPostalAddressDetails": {
		{"DeliveryStreetName", 1, 3, "genericStringType2_35"}, {"DeliveryTownName", 1, 1, "genericStringType2_35"}, {"DeliveryPostCodeIdentifier", 1, 1, "genericStringType2_35"},
		{"DeliveryCountrySubdivision", 0, 1, "genericStringType2_35"}, {"CountryCode", 0, 1, "CountryCodeType"}, {"CountryName", 0, 1, "genericStringType0_35"},
		{"DeliveryPostofficeBoxIdentifier", 0, 1, "genericStringType0_35"},
	},
	"DeliveryDetails": {
		{"DeliveryDate", 0, 1, "date"}, {"DeliveryPeriodDetails", 0, 1, "DeliveryPeriodDetailsType"}, {"ShipmentPartyDetails", 0, 1, "complex"},
		{"DeliveryMethodText", 0, 1, "genericStringType0_512"}, {"DeliveryTermsText", 0, 1, "genericStringType0_512"}, {"DeliveryTermsCode", 0, 1, "genericStringType1_4"},
		{"TerminalAddressText", 0, 1, "genericStringType0_512"}, {"WaybillIdentifier", 0, 1, "genericStringType0_70"}, {"WaybillTypeCode", 0, 1, "genericStringType0_35"},
		{"ClearanceIdentifier", 0, 1, "genericStringType0_70"}, {"DeliveryNoteIdentifier", 0, 1, "genericStringType0_70"}, {"DelivererIdentifier", 0, 1, "genericStringType0_35"},
		{"DelivererName", 0, 3, "genericStringType0_35"}, {"DelivererCountrySubdivision", 0, 1, "genericStringType2_35"}, {"DelivererCountryCode", 0, 1, "CountryCodeType"},
		{"DelivererCountryName", 0, 1, "genericStringType0_35"}, {"ModeOfTransportIdentifier", 0, 1, "genericStringType0_70"}, {"CarrierName", 0, 1, "genericStringType0_35"},
		{"VesselName", 0, 1, "genericStringType0_35"}, {"LocationIdentifier", 0, 1, "genericStringType0_70"}, {"TransportInformationDate", 0, 1, "date"},
		{"CountryOfOrigin", 0, 1, "genericStringType0_35"}, {"CountryOfDestinationName", 0, 1, "genericStringType0_35"}, {"DestinationCountryCode", 0, 1, "CountryCodeType"},
		{"PlaceOfDischarge", 0, 3, "genericStringType0_35"}, {"FinalDestinationName", 0, 3, "DestinationNameType"}, {"ManufacturerIdentifier", 0, 1, "genericStringType0_35"},
		{"ManufacturerName", 0, 3, "genericStringType0_35"}, {"ManufacturerCountrySubdivision", 0, 1, "genericStringType2_35"}, {"ManufacturerCountryCode", 0, 1, "CountryCodeType"},
		{"ManufacturerCountryName", 0, 1, "genericStringType0_35"}, {"ManufacturerOrderIdentifier", 0, 1, "genericStringType0_70"}, {"PackageDetails", 0, 1, "complex"},
	},
	"InvoiceDetails": {
		{"InvoiceTypeCode", 1, 1, "InvoiceTypeCodeTypeFI"}, {"InvoiceTypeCodeUN", 0, 1, "untdid1001"}, {"InvoiceTypeText", 1, 1, "genericStringType1_35"},
		{"InvoiceClassification", 0, 1, "InvoiceClassificationType"}, {"OriginCode", 1, 1, "OriginCodeType"}, {"OriginText", 0, 1, "genericStringType0_35"},
		{"InvoicedObjectID", 0, 1, "InvoicedObjectIDType"}, {"InvoiceNumber", 1, 1, "genericStringType1_20"}, {"InvoiceDate", 1, 1, "date"},
		{"OriginalInvoiceNumber", 0, 1, "genericStringType1_20"}, {"OriginalInvoiceDate", 0, 1, "date"}, {"OriginalInvoiceReference", 0, unb, "OriginalInvoiceReferenceType"},
		{"InvoicingPeriodStartDate", 0, 1, "date"}, {"InvoicingPeriodEndDate", 0, 1, "date"}, {"SellerReferenceIdentifier", 0, 1, "genericStringType0_70"},
		{"SellerReferenceIdentifierUrlText", 0, 1, "genericStringType0_512"}, {"BuyersSellerIdentifier", 0, 1, "PartyIdentifierType"}, {"SellersBuyerIdentifier", 0, 1, "PartyIdentifierType"},
		{"OrderIdentifier", 0, 1, "genericStringType0_70"}, {"OrderIdentifierUrlText", 0, 1, "genericStringType0_512"}, {"OrderDate", 0, 1, "date"},
		{"OrdererName", 0, 1, "genericStringType0_35"}, {"SalesPersonName", 0, 1, "genericStringType0_35"}, {"OrderConfirmationIdentifier", 0, 1, "genericStringType0_70"},
		{"OrderConfirmationDate", 0, 1, "date"}, {"AgreementIdentifier", 0, 1, "genericStringType0_70"}, {"AgreementIdentifierUrlText", 0, 1, "genericStringType0_512"},
		{"AgreementTypeText", 0, 1, "genericStringType0_35"}, {"AgreementTypeCode", 0, 1, "genericStringType0_35"}, {"AgreementDate", 0, 1, "date"},
		{"NotificationIdentifier", 0, 1, "genericStringType0_70"}, {"NotificationDate", 0, 1, "date"}, {"RegistrationNumberIdentifier", 0, 1, "genericStringType0_70"},
		{"ControllerIdentifier", 0, 1, "genericStringType0_70"}, {"ControllerName", 0, 1, "genericStringType0_35"}, {"ControlDate", 0, 1, "date"},
		{"BuyerReferenceIdentifier", 0, 1, "genericStringType0_70"}, {"ProjectReferenceIdentifier", 0, 1, "genericStringType0_70"}, {"DefinitionDetails", 0, unb, "complex"},
		{"RowsTotalVatExcludedAmount", 0, 1, "amount"}, {"DiscountsTotalVatExcludedAmount", 0, 1, "amount"}, {"ChargesTotalVatExcludedAmount", 0, 1, "amount"},
		{"InvoiceTotalVatExcludedAmount", 0, 1, "amount"}, {"InvoiceTotalVatAmount", 0, 1, "amount"}, {"InvoiceTotalVatAccountingAmount", 0, 1, "amount"},
		{"InvoiceTotalVatIncludedAmount", 1, 1, "amount"}, {"InvoiceTotalRoundoffAmount", 0, 1, "amount"}, {"InvoicePaidAmount", 0, 1, "amount"},
		{"ExchangeRate", 0, 1, "exchangeRate"}, {"OtherCurrencyAmountVatExcludedAmount", 0, 1, "amount"}, {"OtherCurrencyAmountVatIncludedAmount", 0, 1, "amount"},
		{"CreditLimitAmount", 0, 1, "amount"}, {"CreditInterestPercent", 0, 1, "percentage"}, {"OperationLimitAmount", 0, 1, "amount"},
		{"MonthlyAmount", 0, 1, "amount"}, {"ShortProposedAccountIdentifier", 0, 1, "genericNMtokenType0_4"}, {"NormalProposedAccountIdentifier", 0, 1, "genericNMtokenType0_4"},
		{"ProposedAccountText", 0, 1, "genericStringType0_35"}, {"AccountDimensionText", 0, 1, "genericStringType0_35"}, {"SellerAccountText", 0, 1, "genericStringType0_35"},
		{"VatPoint", 0, 1, "VatPointType"}, {"VatSpecificationDetails", 0, unb, "VatSpecificationDetailsType"}, {"InvoiceFreeText", 0, unb, "genericStringType0_512"},
		{"InvoiceVatFreeText", 0, 1, "genericStringType0_70"}, {"PaymentTermsDetails", 0, unb, "PaymentTermsDetailsType"}, {"DiscountDetails", 0, unb, "DiscountDetailsType"},
		{"ChargeDetails", 0, unb, "InvoiceChargeDetailsType"}, {"TenderReference", 0, 1, "genericStringType1_70"},
	},
	"OriginalInvoiceReference": {
		{"InvoiceNumber", 0, 1, "genericStringType1_20"}, {"InvoiceDate", 0, 1, "date"},
	},
	"VatSpecificationDetails": {
		{"VatBaseAmount", 0, 1, "amount"}, {"VatRatePercent", 0, 1, "percentage"}, {"VatCode", 0, 1, "untdid5305"},
		{"VatRateAmount", 0, 1, "amount"}, {"VatFreeText", 0, 3, "genericStringType0_70"}, {"VatExemptionReasonCode", 0, 1, "VatExReasonCodeType"},
	},
	"PaymentTermsDetails": {
		{"PaymentTermsFreeText", 0, 2, "genericStringType0_70"}, {"FreeText", 0, 2, "HeaderValueType"}, {"InvoiceDueDate", 0, 1, "date"},
		{"CashDiscountDate", 0, 1, "date"}, {"CashDiscountBaseAmount", 0, 1, "amount"}, {"CashDiscountPercent", 0, 1, "percentage"},
		{"CashDiscountAmount", 0, 1, "amount"}, {"CashDiscountExcludingVatAmount", 0, 1, "amount"}, {"CashDiscountVatDetails", 0, unb, "complex"},
		{"ReducedInvoiceVatIncludedAmount", 0, 1, "amount"}, {"PaymentOverDueFineDetails", 0, 1, "PaymentOverDueFineDetailsType"},
	},
	"DiscountDetails": {
		{"FreeText", 0, 1, "genericStringType1_70"}, {"ReasonCode", 0, 1, "untdid5189"}, {"Percent", 0, 1, "percentage"},
		{"Amount", 0, 1, "amount"}, {"BaseAmount", 0, 1, "amount"}, {"VatCategoryCode", 0, 1, "VatCategoryCodeType"},
		{"VatRatePercent", 0, 1, "percentage"},
	},
	"ChargeDetails": {
		{"ReasonText", 0, 1, "genericStringType1_70"}, {"ReasonCode", 0, 1, "untdid7161"}, {"Percent", 0, 1, "percentage"},
		{"Amount", 0, 1, "amount"}, {"BaseAmount", 0, 1, "amount"}, {"VatCategoryCode", 0, 1, "VatCategoryCodeType"},
		{"VatRatePercent", 0, 1, "percentage"},
	},
	"InvoiceRow": {
		{"RowSubIdentifier", 0, 1, "genericStringType0_35"}, {"InvoicedObjectID", 0, 1, "InvoicedObjectIDType"}, {"ArticleIdentifier", 0, 1, "genericStringType0_70"},
		{"ArticleGroupIdentifier", 0, unb, "ArticleGroupIdentifierType"}, {"ArticleName", 0, 1, "genericStringType0_100"}, {"ArticleDescription", 0, 1, "genericStringType0_512"},
		{"ArticleInfoUrlText", 0, 1, "genericStringType0_512"}, {"BuyerArticleIdentifier", 0, 1, "genericStringType0_70"}, {"EanCode", 0, 1, "EanCodeType"},
		{"RowRegistrationNumberIdentifier", 0, 1, "genericStringType0_70"}, {"SerialNumberIdentifier", 0, 1, "genericStringType0_70"}, {"RowActionCode", 0, 1, "genericTokenType0_35"},
		{"RowDefinitionDetails", 0, unb, "RowDefinitionDetailsType"}, {"OfferedQuantity", 0, unb, "QuantityType0_14"}, {"DeliveredQuantity", 0, unb, "QuantityType0_14"},
		{"OrderedQuantity", 0, 1, "QuantityType0_14"}, {"ConfirmedQuantity", 0, 1, "QuantityType0_14"}, {"PostDeliveredQuantity", 0, 1, "QuantityType0_14"},
		{"InvoicedQuantity", 0, unb, "QuantityType0_14"}, {"CreditRequestedQuantity", 0, 1, "QuantityType0_14"}, {"ReturnedQuantity", 0, 1, "QuantityType0_14"},
		{"StartDate", 0, 1, "date"}, {"EndDate", 0, 1, "date"}, {"UnitPriceAmount", 0, 1, "unitAmountUN"},
		{"UnitPriceDiscountAmount", 0, 1, "unitAmountUN"}, {"UnitPriceNetAmount", 0, 1, "unitAmountUN"}, {"UnitPriceVatIncludedAmount", 0, 1, "unitAmountUN"},
		{"UnitPriceBaseQuantity", 0, 1, "QuantityType0_14"}, {"RowIdentifier", 0, 1, "genericStringType0_35"}, {"RowIdentifierUrlText", 0, 1, "genericStringType0_512"},
		{"RowOrderPositionIdentifier", 0, 1, "genericStringType0_35"}, {"RowIdentifierDate", 0, 1, "date"}, {"RowPositionIdentifier", 0, 1, "genericStringType0_35"},
		{"OriginalInvoiceNumber", 0, 1, "genericStringType1_20"}, {"OriginalInvoiceDate", 0, 1, "date"}, {"OriginalInvoiceReference", 0, unb, "OriginalInvoiceReferenceType"},
		{"RowOrdererName", 0, 1, "genericStringType0_35"}, {"RowSalesPersonName", 0, 1, "genericStringType0_35"}, {"RowOrderConfirmationIdentifier", 0, 1, "genericStringType0_70"},
		{"RowOrderConfirmationDate", 0, 1, "date"}, {"RowDeliveryIdentifier", 0, 1, "genericStringType0_35"}, {"RowDeliveryIdentifierUrlText", 0, 1, "genericStringType0_512"},
		{"RowDeliveryDate", 0, 1, "date"}, {"RowQuotationIdentifier", 0, 1, "genericStringType0_35"}, {"RowQuotationIdentifierUrlText", 0, 1, "genericStringType0_512"},
		{"RowAgreementIdentifier", 0, 1, "genericStringType0_70"}, {"RowAgreementIdentifierUrlText", 0, 1, "genericStringType0_512"}, {"RowRequestOfQuotationIdentifier", 0, 1, "genericStringType0_35"},
		{"RowRequestOfQuotationIdentifierUrlText", 0, 1, "genericStringType0_512"}, {"RowPriceListIdentifier", 0, 1, "genericStringType0_35"}, {"RowPriceListIdentifierUrlText", 0, 1, "genericStringType0_512"},
		{"RowBuyerReferenceIdentifier", 0, 1, "genericStringType0_70"}, {"RowProjectReferenceIdentifier", 0, 1, "genericStringType0_70"}, {"RowOverDuePaymentDetails", 0, 1, "RowOverDuePaymentDetailsType"},
		{"RowAnyPartyDetails", 0, unb, "RowAnyPartyDetailsType"}, {"RowDeliveryDetails", 0, 1, "RowDeliveryDetailsType"}, {"RowShortProposedAccountIdentifier", 0, 1, "genericNMtokenType0_4"},
		{"RowNormalProposedAccountIdentifier", 0, 1, "genericNMtokenType0_4"}, {"RowProposedAccountText", 0, 1, "genericStringType0_35"}, {"RowAccountDimensionText", 0, 1, "genericStringType0_35"},
		{"RowSellerAccountText", 0, 1, "genericStringType0_35"}, {"RowFreeText", 0, unb, "genericStringType0_512"}, {"RowUsedQuantity", 0, 1, "QuantityType0_14"},
		{"RowPreviousMeterReadingDate", 0, 1, "date"}, {"RowLatestMeterReadingDate", 0, 1, "date"}, {"RowCalculatedQuantity", 0, 1, "QuantityType0_14"},
		{"RowAveragePriceAmount", 0, 1, "amount"}, {"RowDiscountPercent", 0, 1, "percentage"}, {"RowDiscountAmount", 0, 1, "amount"},
		{"RowDiscountBaseAmount", 0, 1, "amount"}, {"RowDiscountTypeCode", 0, 1, "untdid5189"}, {"RowDiscountTypeText", 0, 1, "genericStringType0_35"},
		{"RowProgressiveDiscountDetails", 0, unb, "RowProgressiveDiscountDetailsType"}, {"RowChargeDetails", 0, unb, "RowChargeDetailsType"}, {"RowVatRatePercent", 0, 1, "percentage"},
		{"RowVatCode", 0, 1, "untdid5305"}, {"RowVatAmount", 0, 1, "amount"}, {"RowVatExcludedAmount", 0, 1, "amount"},
		{"RowAmount", 0, 1, "amount"}, {"RowTransactionDetails", 0, 1, "TransactionDetailsType"},
	},
	"RowProgressiveDiscountDetails": {
		{"RowDiscountPercent", 0, 1, "percentage"}, {"RowDiscountAmount", 0, 1, "amount"}, {"RowDiscountBaseAmount", 0, 1, "amount"},
		{"RowDiscountTypeCode", 0, 1, "untdid5189"}, {"RowDiscountTypeText", 0, 1, "genericStringType0_35"},
	},
	"RowChargeDetails": {
		{"ReasonText", 0, 1, "genericStringType1_70"}, {"ReasonCode", 0, 1, "untdid7161"}, {"Percent", 0, 1, "percentage"},
		{"Amount", 0, 1, "amount"}, {"BaseAmount", 0, 1, "amount"},
	},
	"EpiDetails": {
		{"EpiIdentificationDetails", 1, 1, "EpiIdentificationDetailsType"}, {"EpiPartyDetails", 1, 1, "EpiPartyDetailsType"}, {"EpiPaymentInstructionDetails", 1, 1, "EpiPaymentInstructionDetailsType"},
	},
	"EpiIdentificationDetails": {
		{"EpiDate", 1, 1, "date"}, {"EpiReference", 1, 1, "genericNMtokenType0_35"}, {"EpiUrl", 0, 1, "genericNMtokenType0_512"},
		{"EpiEmail", 0, 1, "genericStringType0_70"}, {"EpiOrderInfo", 0, 7, "genericTokenType0_70"},
	},
	"EpiPartyDetails": {
		{"EpiBfiPartyDetails", 1, 1, "EpiBfiPartyDetailsType"}, {"EpiBeneficiaryPartyDetails", 1, 1, "EpiBeneficiaryPartyDetailsType"},
	},
	"EpiBfiPartyDetails": {
		{"EpiBfiIdentifier", 0, 1, "EpiBfiIdentifierType"}, {"EpiBfiName", 0, 1, "genericStringType1_35"},
	},
	"EpiBeneficiaryPartyDetails": {
		{"EpiNameAddressDetails", 0, 1, "genericTokenType2_35"}, {"EpiBei", 0, 1, "genericNMtokenType8_11"}, {"EpiAccountID", 1, 1, "EpiAccountIDType"},
	},
	"EpiPaymentInstructionDetails": {
		{"EpiPaymentInstructionId", 0, 1, "genericStringType0_35"}, {"EpiTransactionTypeCode", 0, 1, "genericTokenType3"}, {"EpiInstructionCode", 0, 1, "genericNMtokenType0_35"},
		{"EpiRemittanceInfoIdentifier", 0, 1, "EpiRemittanceInfoIdentifierType"}, {"EpiInstructedAmount", 1, 1, "epiAmount"}, {"EpiCharge", 1, 1, "EpiChargeType"},
		{"EpiDateOptionDate", 1, 1, "date"}, {"EpiPaymentMeansCode", 0, 1, "untdid4461"}, {"EpiPaymentMeansText", 0, 1, "genericStringType1_70"},
	},
}

type xnode struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*xnode
}

func parseTree(t *testing.T, b []byte) *xnode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				root = n
			} else {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// validate checks n (of schema type typ) and everything under it.
func validate(n *xnode, typ, path string) []string {
	path += "/" + n.name
	model, aggregate := models[n.name]
	if !aggregate {
		if len(n.kids) > 0 {
			return []string{fmt.Sprintf("%s: has children but no model here (type %s)", path, typ)}
		}
		if p := leafProblem(n, typ); p != "" {
			return []string{path + ": " + p}
		}
		return nil
	}
	var out []string
	i := 0
	for _, p := range model {
		count := 0
		for i < len(n.kids) && n.kids[i].name == p.name && (p.max == unb || count < p.max) {
			out = append(out, validate(n.kids[i], p.typ, path)...)
			count++
			i++
		}
		if count < p.min {
			out = append(out, fmt.Sprintf("%s: %s occurs %d times, the schema requires at least %d", path, p.name, count, p.min))
		}
	}
	if i < len(n.kids) {
		out = append(out, fmt.Sprintf("%s: %s is out of the schema's order or not allowed here", path, n.kids[i].name))
	}
	return out
}

var (
	lengthType    = regexp.MustCompile(`^generic(String|Token|NMtoken)Type(\d+)_(\d+)$`)
	nameCharRE    = regexp.MustCompile(`^[\p{L}\p{N}._:\-\p{Mn}\x{B7}]*$`)
	monetary      = regexp.MustCompile(`^-?[0-9]{1,15}(,[0-9]{2,5})?$`)
	epiMonetary   = regexp.MustCompile(`^-?[0-9]{1,15},[0-9]{2}$`)
	percentage    = regexp.MustCompile(`^[1-9]?[0-9]{1,2}(,[0-9]{1,3})?$`)
	untdid        = regexp.MustCompile(`^[A-Z0-9]{1,3}$`)
	iso6523       = regexp.MustCompile(`^[0-9]{4}$`)
	unitCodeUN    = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)
	typeCodeFI    = regexp.MustCompile(`^(REQ|QUO|ORD|ORC|INV|DEV|TES|INF|PRI|DEN|SEI|REC|RES|SDD)[0-9]{2}$`)
	remittance    = regexp.MustCompile(`^(([0-9]{2,20})|(RF[0-9][0-9][0-9A-Za-z]{1,21}))$`)
	vatExReason   = regexp.MustCompile(`^[A-Za-z0-9\-]{1,20}$`)
	schemeNMTOKEN = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,10}$`)
)

// leafProblem restates the schema's simple types for one leaf.
func leafProblem(n *xnode, typ string) string {
	v := n.text
	tok := strings.Join(strings.Fields(v), " ")
	length := func(s string, lo, hi int) string {
		if c := utf8.RuneCountInString(s); c < lo || c > hi {
			return fmt.Sprintf("%q has %d characters, type %s allows %d to %d", s, c, typ, lo, hi)
		}
		return ""
	}
	attr := func(name string, ok func(string) bool, required bool) string {
		a, has := n.attrs[name]
		switch {
		case !has && required:
			return "attribute " + name + " missing"
		case has && !ok(a):
			return fmt.Sprintf("attribute %s=%q not allowed", name, a)
		}
		return ""
	}
	oneOf := func(vals ...string) func(string) bool {
		return func(s string) bool {
			for _, v := range vals {
				if s == v {
					return true
				}
			}
			return false
		}
	}
	first := func(ps ...string) string {
		for _, p := range ps {
			if p != "" {
				return p
			}
		}
		return ""
	}
	if m := lengthType.FindStringSubmatch(typ); m != nil {
		var lo, hi int
		fmt.Sscan(m[2], &lo)
		fmt.Sscan(m[3], &hi)
		switch m[1] {
		case "String":
			return length(v, lo, hi)
		case "Token":
			return length(tok, lo, hi)
		}
		if !nameCharRE.MatchString(tok) {
			return fmt.Sprintf("%q: type %s holds name characters only", v, typ)
		}
		return length(tok, lo, hi)
	}
	switch typ {
	case "genericTokenType3":
		return length(tok, 3, 3)
	case "amount", "epiAmount", "unitAmountUN":
		re := monetary
		if typ == "epiAmount" {
			re = epiMonetary
		}
		if !re.MatchString(tok) {
			return fmt.Sprintf("%q is not an amount of type %s", v, typ)
		}
		return first(attr("AmountCurrencyIdentifier", func(s string) bool { return len(s) == 3 }, true),
			attr("QuantityUnitCodeUN", unitCodeUN.MatchString, false))
	case "date":
		if _, err := time.Parse("20060102", tok); err != nil {
			return fmt.Sprintf("%q is not a CCYYMMDD date", v)
		}
		return attr("Format", oneOf("CCYYMMDD"), true)
	case "percentage":
		if !percentage.MatchString(v) {
			return fmt.Sprintf("%q is not a percentage", v)
		}
	case "untdid1001", "untdid4461", "untdid5189", "untdid5305", "untdid7161", "VatCategoryCodeType":
		if !untdid.MatchString(tok) {
			return fmt.Sprintf("%q is not a code of 1 to 3 capitals or digits", v)
		}
	case "CountryCodeType", "LanguageCodeType":
		return length(tok, 2, 2)
	case "xs:dateTime":
		if _, err := time.Parse(time.RFC3339, tok); err != nil {
			return fmt.Sprintf("%q is not a dateTime", v)
		}
	case "ElectronicAddrIdType":
		return first(length(v, 2, 35), attr("SchemeID", schemeNMTOKEN.MatchString, false))
	case "PartyLegalRegIdType", "EanCodeType":
		return first(length(v, 0, 35), attr("SchemeID", iso6523.MatchString, false))
	case "PartyIdentifierType":
		return first(length(v, 0, 70), attr("SchemeID", iso6523.MatchString, false))
	case "QuantityType0_14":
		return first(length(v, 0, 14), attr("QuantityUnitCodeUN", unitCodeUN.MatchString, false))
	case "InvoiceTypeCodeTypeFI":
		if !typeCodeFI.MatchString(tok) {
			return fmt.Sprintf("%q is not a Finvoice type code", v)
		}
		return attr("CodeListAgencyIdentifier", oneOf("SPY"), false)
	case "OriginCodeType":
		if !oneOf("Original", "Copy", "Cancel")(tok) {
			return fmt.Sprintf("%q is not an origin code", v)
		}
	case "EpiAccountIDType", "SellerAccountIDType":
		lo, hi := 1, 34
		if typ == "SellerAccountIDType" {
			lo, hi = 2, 35
		}
		return first(length(tok, lo, hi), attr("IdentificationSchemeName", oneOf("IBAN", "BBAN"), true))
	case "EpiBfiIdentifierType", "SellerBicType":
		return first(length(tok, 8, 11), attr("IdentificationSchemeName", oneOf("BIC"), true))
	case "EpiRemittanceInfoIdentifierType":
		if !remittance.MatchString(tok) {
			return fmt.Sprintf("%q is not a reference the schema allows", v)
		}
		return attr("IdentificationSchemeName", oneOf("SPY", "ISO"), false)
	case "EpiChargeType":
		return attr("ChargeOption", oneOf("SHA", "OUR", "BEN", "SLEV"), true)
	case "VatExReasonCodeType":
		if !vatExReason.MatchString(tok) {
			return fmt.Sprintf("%q is not an exemption reason code", v)
		}
	default:
		return "no rule for type " + typ + " in this test; add one from the schema"
	}
	return ""
}

// messages cuts a batch file into its Finvoice messages (each with the
// declaration before it) and its SOAP frames.
func messages(t *testing.T, batch []byte) (finvoices, frames [][]byte) {
	t.Helper()
	decl := []byte(declarationLat9)
	parts := bytes.Split(batch, decl)
	for i, p := range parts {
		if i > 0 {
			end := bytes.Index(p, []byte("</Finvoice>"))
			if end < 0 {
				t.Fatalf("message %d has no </Finvoice>", i)
			}
			end += len("</Finvoice>")
			finvoices = append(finvoices, append(append([]byte{}, decl...), p[:end]...))
			p = p[end:]
		}
		if f := bytes.TrimSpace(p); len(f) > 0 {
			frames = append(frames, f)
		}
	}
	return finvoices, frames
}

func schemaProblems(t *testing.T, b []byte) []string {
	t.Helper()
	root := parseTree(t, mustUTF8(t, b))
	if root.name != "Finvoice" || root.attrs["Version"] != "3.0" {
		return []string{"root is not <Finvoice Version=\"3.0\">"}
	}
	return validate(root, "", "")
}

func mustUTF8(t *testing.T, b []byte) []byte {
	t.Helper()
	s, err := utf8Text(b)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// schemaCases are documents that exercise the mapping's corners: the test
// batch, and texts and prices the writer must split, cut or rescale.
func schemaCases() map[string]Batch {
	cases := map[string]Batch{"batch": testBatch()}
	long := testBatch()
	d := long.Items[1].Doc
	d.Seller.Name = strings.Repeat("Lappeenrannan Sähkö- ja Lämpöpalvelut ", 3) + "Oy"
	d.Seller.Address.Additional = "Rakennus C, porraskäytävä 2, toimisto 14 (sisäpiha)"
	d.Lines[0].Item.Name = strings.Repeat("Kaukolämmön perusmaksu ja kulutus ", 4)
	d.Lines[0].Item.Description = strings.Repeat("Mittarilukemat 1.3.–31.3. ", 25)
	d.Lines[0].Price = formats.Price{Amount: "0.1234567"}
	d.PaymentTerms = strings.Repeat("Maksuehto 14 pv netto. Viivästyskorko korkolain mukaan. ", 4)
	cases["long texts"] = long
	// An exempt category with its reason, line allowances and charges, a
	// document charge, a paid amount and rounding: elements the test batch
	// does not reach. The amounts are placeholders; only the shape counts.
	more := testBatch()
	d = more.Items[1].Doc
	d.VAT = append(d.VAT, formats.VATBreakdown{Category: "E", Rate: "0", ExemptionReason: "Arvonlisäverolain 34 §:n mukainen vapautus terveydenhuoltopalveluista",
		ExemptionCode: "VATEX-EU-132-1B"})
	d.Lines[1].AllowanceCharges = []formats.AllowanceCharge{{Amount: amt("1.00"), Percent: "5", BaseAmount: amtp("20.00"), Reason: "Määräalennus", ReasonCode: "95"},
		{Charge: true, Amount: amt("2.00"), Reason: "Toimitusmaksu", ReasonCode: "FC"}}
	d.AllowanceCharges = append(d.AllowanceCharges, formats.AllowanceCharge{Charge: true, Amount: amt("3.00"), Reason: "Laskutuslisä", VATCategory: "S", VATRate: "25.5"})
	d.Totals.ChargeTotal, d.Totals.Prepaid, d.Totals.Rounding = amtp("3.00"), amtp("10.00"), amtp("0.01")
	d.Lines[0].Item.StandardID = formats.Identifier{Scheme: "0160", Value: "6417084000018"}
	d.Lines[0].Period = &formats.Period{Start: formats.Date{Year: 2024, Month: 3, Day: 1}, End: formats.Date{Year: 2024, Month: 3, Day: 31}}
	d.Lines[0].Price.BaseQuantity, d.Lines[0].Price.BaseUnit = "10", "KWH"
	d.Preceding = []formats.PrecedingInvoice{{Number: "2024-0900"}, {Number: "2024-0901", IssueDate: formats.Date{Year: 2024, Month: 2, Day: 1}}}
	d.Delivery.Name, d.Delivery.Address = "Työmaa Kouvola", formats.Address{Street: "Työmaantie 1", City: "Kouvola", PostalCode: "45100", Country: "FI"}
	d.Seller.TaxRegistration, d.Seller.LegalInfo = "ALV rek.", "Kotipaikka Lappeenranta"
	cases["more elements"] = more
	return cases
}

func TestSchemaModels(t *testing.T) {
	for name, b := range schemaCases() {
		var out bytes.Buffer
		if err := WriteBatch(&out, b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		finvoices, frames := messages(t, out.Bytes())
		if len(finvoices) != len(b.Items) || len(frames) != len(b.Items) {
			t.Fatalf("%s: %d messages and %d frames for %d items", name, len(finvoices), len(frames), len(b.Items))
		}
		for i, f := range finvoices {
			for _, p := range schemaProblems(t, f) {
				t.Errorf("%s message %d: %s", name, i+1, p)
			}
		}
	}
}

// TestSchemaCatchesMistakes makes sure the check above is not vacuous.
func TestSchemaCatchesMistakes(t *testing.T) {
	var out bytes.Buffer
	if err := WriteBatch(&out, testBatch()); err != nil {
		t.Fatal(err)
	}
	finvoices, _ := messages(t, out.Bytes())
	good := string(finvoices[0])
	for name, change := range map[string]func(string) string{
		"rows after EpiDetails": func(s string) string {
			i, j := strings.Index(s, "<InvoiceRow>"), strings.Index(s, "<EpiDetails>")
			return s[:i] + s[j:strings.Index(s, "</Finvoice>")] + s[i:j] + "</Finvoice>"
		},
		"amount with a point": func(s string) string { return strings.Replace(s, ">124,00<", ">124.00<", 1) },
		"no Format on a date": func(s string) string { return strings.Replace(s, ` Format="CCYYMMDD"`, "", 1) },
		"unknown element":     func(s string) string { return strings.Replace(s, "<OriginCode>", "<Origin>x</Origin><OriginCode>", 1) },
		"no EpiAccountID": func(s string) string {
			return regexp.MustCompile(`<EpiAccountID[^/]*/EpiAccountID>`).ReplaceAllString(s, "")
		},
		"a bad reference": func(s string) string { return strings.Replace(s, ">1234561<", ">12-34561<", 1) },
	} {
		bad := change(good)
		if bad == good {
			t.Fatalf("%s: the change did not apply", name)
		}
		if len(schemaProblems(t, []byte(bad))) == 0 {
			t.Errorf("%s: the check found nothing wrong", name)
		}
	}
}
