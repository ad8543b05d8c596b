package awsfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// jsonProto describes one AWS JSON protocol service.
type jsonProto struct {
	targetPrefix string // "Logs_20140328." or "AmazonSQS."
	contentType  string // "application/x-amz-json-1.1" or "-1.0"
	namespace    string // prefix of __type, e.g. "com.amazonaws.sqs#"
	queryCompat  bool   // write the x-amzn-query-error header
	queryCodes   map[string]string
}

// parse reads the operation name and body of a JSON protocol request. raw
// is the body for typed decoding, and params is the body as a generic map.
func (p jsonProto) parse(r *http.Request) (op string, raw []byte, params map[string]any, aerr *apiError) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, p.targetPrefix)
	if r.Method != http.MethodPost || !ok || op == "" {
		return target, nil, nil, &apiError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: "Unknown operation " + target + "."}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, p.contentType) {
		return op, nil, nil, &apiError{Status: http.StatusBadRequest, Code: "SerializationException",
			Message: "Unexpected Content-Type " + ct + "."}
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return op, nil, nil, &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: err.Error()}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		return op, nil, nil, &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: err.Error()}
	}
	return op, raw, params, nil
}

// decode unmarshals a request body into v.
func decode(raw []byte, v any) *apiError {
	if err := json.Unmarshal(raw, v); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: err.Error()}
	}
	return nil
}

// writeResult writes a successful JSON response.
func (p jsonProto) writeResult(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", p.contentType)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError writes e as a JSON protocol error: {"__type": ..., "message": ...}
// plus any details, and for query-compatible services the
// x-amzn-query-error header ("Code;Sender" or "Code;Receiver").
func (p jsonProto) writeError(w http.ResponseWriter, e *apiError) {
	doc := map[string]any{}
	for k, v := range e.Details {
		doc[k] = v
	}
	doc["__type"] = p.namespace + e.Code
	doc["message"] = e.Message
	body, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", p.contentType)
	w.Header().Set("x-amzn-RequestId", newID())
	if p.queryCompat {
		code := e.QueryCode
		if code == "" {
			code = p.queryCodes[e.Code]
		}
		if code == "" {
			code = e.Code
		}
		fault := "Receiver"
		if e.sender() {
			fault = "Sender"
		}
		w.Header().Set("x-amzn-query-error", code+";"+fault)
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
