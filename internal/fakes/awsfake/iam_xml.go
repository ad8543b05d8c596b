package awsfake

import (
	"encoding/xml"
	"net/http"
)

// This file holds the XML documents of the IAM query protocol.

// xmlList renders a wrapped query-protocol list: <Name><member>...</member></Name>.
type xmlList[T any] struct {
	Member []T `xml:"member"`
}

// xmlMFADevice is one member of MFADevices.
type xmlMFADevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

// listMFADevicesResult is the ListMFADevicesResult element.
type listMFADevicesResult struct {
	XMLName     xml.Name              `xml:"ListMFADevicesResult"`
	MFADevices  xmlList[xmlMFADevice] `xml:"MFADevices"`
	IsTruncated bool                  `xml:"IsTruncated"`
	Marker      string                `xml:"Marker,omitempty"`
}

// xmlTag is one member of Tags.
type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// listUserTagsResult is the ListUserTagsResult element.
type listUserTagsResult struct {
	XMLName     xml.Name        `xml:"ListUserTagsResult"`
	Tags        xmlList[xmlTag] `xml:"Tags"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

// getLoginProfileResult is the GetLoginProfileResult element.
type getLoginProfileResult struct {
	XMLName      xml.Name `xml:"GetLoginProfileResult"`
	LoginProfile struct {
		UserName              string `xml:"UserName"`
		CreateDate            string `xml:"CreateDate"`
		PasswordResetRequired bool   `xml:"PasswordResetRequired"`
	} `xml:"LoginProfile"`
}

// iamEnvelope is the <OpResponse> document of a successful call.
type iamEnvelope struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// writeIAMResult writes a successful response for op.
func writeIAMResult(w http.ResponseWriter, op string, result any) {
	id := newID()
	env := iamEnvelope{XMLName: xml.Name{Local: op + "Response"}, Xmlns: iamNamespace, Result: result, RequestID: id}
	writeXML(w, http.StatusOK, id, env)
}

// iamErrorResponse is the <ErrorResponse> document of a failed call.
type iamErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// writeIAMError writes e as an IAM ErrorResponse.
func writeIAMError(w http.ResponseWriter, e *apiError) {
	id := newID()
	doc := iamErrorResponse{Xmlns: iamNamespace, RequestID: id}
	doc.Error.Type = "Receiver"
	if e.sender() {
		doc.Error.Type = "Sender"
	}
	doc.Error.Code = e.Code
	doc.Error.Message = e.Message
	writeXML(w, e.Status, id, doc)
}

// writeXML marshals v as the response body.
func writeXML(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
