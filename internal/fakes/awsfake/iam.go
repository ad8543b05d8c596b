package awsfake

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const (
	iamVersion   = "2010-05-08"
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// iamStatuses maps IAM error codes to the HTTP status the real service uses.
var iamStatuses = map[string]int{
	"NoSuchEntity":                  http.StatusNotFound,
	"EntityTemporarilyUnmodifiable": http.StatusConflict,
	"ConcurrentModification":        http.StatusConflict,
	"LimitExceeded":                 http.StatusConflict,
	"ServiceFailure":                http.StatusInternalServerError,
	"AccessDenied":                  http.StatusForbidden,
	"Throttling":                    http.StatusBadRequest,
	"ValidationError":               http.StatusBadRequest,
	"InvalidInput":                  http.StatusBadRequest,
}

var (
	iamSerialPattern = regexp.MustCompile(`^[\w+=/:,.@-]+$`)
	iamUserPattern   = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// MFADevice is an MFA device held by the IAM fake.
type MFADevice struct {
	UserName     string
	SerialNumber string
	EnableDate   time.Time
}

// iamUser is one IAM user in the fake.
type iamUser struct {
	created      time.Time
	tags         map[string]string
	loginProfile bool
	devices      []MFADevice
}

// IAM is a fake of the IAM query API. It serves ListMFADevices,
// ListUserTags, DeactivateMFADevice and GetLoginProfile from users and
// devices added with AddUser and AddMFADevice.
type IAM struct {
	base

	mu      sync.Mutex
	users   map[string]*iamUser
	caller  string
	maxPage int
}

// NewIAM starts an IAM fake with no users. Call Close when done.
func NewIAM() *IAM {
	f := &IAM{users: map[string]*iamUser{}}
	f.start(iamStatuses, "MissingAuthenticationToken", f.serveHTTP)
	return f
}

// Client returns an IAM client that talks to the fake. optFns run after the
// endpoint is set, so they can override anything.
func (f *IAM) Client(optFns ...func(*iam.Options)) *iam.Client {
	opts := append([]func(*iam.Options){func(o *iam.Options) { o.BaseEndpoint = aws.String(f.URL()) }}, optFns...)
	return iam.NewFromConfig(Config(f.URL()), opts...)
}

// AddUser creates or replaces the user name with the given tags. When
// loginProfile is true the user has a console password, so GetLoginProfile
// succeeds. Devices of an existing user are kept.
func (f *IAM) AddUser(name string, tags map[string]string, loginProfile bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[name]
	if u == nil {
		u = &iamUser{created: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)}
		f.users[name] = u
	}
	u.tags = make(map[string]string, len(tags))
	for k, v := range tags {
		u.tags[k] = v
	}
	u.loginProfile = loginProfile
}

// AddMFADevice assigns the device serial to user, enabled at enabled. The
// user is created without tags or login profile if it does not exist.
func (f *IAM) AddMFADevice(user, serial string, enabled time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[user]
	if u == nil {
		u = &iamUser{created: enabled, tags: map[string]string{}}
		f.users[user] = u
	}
	u.devices = append(u.devices, MFADevice{UserName: user, SerialNumber: serial, EnableDate: enabled.UTC()})
}

// Devices returns the devices currently assigned to user.
func (f *IAM) Devices(user string) []MFADevice {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[user]; u != nil {
		return slices.Clone(u.devices)
	}
	return nil
}

// SetCaller sets the IAM user that the fake treats as the caller, which
// ListMFADevices and GetLoginProfile use when UserName is omitted. With no
// caller (the default, as for a role) those calls fail with ValidationError.
func (f *IAM) SetCaller(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.caller = user
}

// SetMaxPageSize caps every list page at n items even when MaxItems is
// larger, as IAM may return fewer items than asked for. Zero removes the cap.
func (f *IAM) SetMaxPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxPage = n
}

// serveHTTP handles one query-protocol request.
func (f *IAM) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeIAMError(w, newAPIError(iamStatuses, "MalformedQueryString", err.Error()))
		return
	}
	op := r.Form.Get("Action")
	params := map[string]any{}
	for k, v := range r.Form {
		if k != "Action" && k != "Version" && len(v) > 0 {
			params[k] = v[0]
		}
	}
	idx, aerr := f.begin(r, op, params)
	var result any
	if aerr == nil {
		if v := r.Form.Get("Version"); v != iamVersion {
			aerr = newAPIError(iamStatuses, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s.", op, v))
		} else {
			result, aerr = f.dispatch(op, r.Form)
		}
	}
	f.finish(idx, aerr)
	if aerr != nil {
		writeIAMError(w, aerr)
		return
	}
	writeIAMResult(w, op, result)
}

// dispatch runs op and returns the XML result element, or nil for
// operations without output.
func (f *IAM) dispatch(op string, form url.Values) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "ListMFADevices":
		return f.listMFADevices(form)
	case "ListUserTags":
		return f.listUserTags(form)
	case "DeactivateMFADevice":
		return nil, f.deactivateMFADevice(form)
	case "GetLoginProfile":
		return f.getLoginProfile(form)
	}
	return nil, newAPIError(iamStatuses, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s.", op, iamVersion))
}

// user resolves the UserName parameter, or the caller when it is absent.
func (f *IAM) user(form url.Values) (string, *iamUser, *apiError) {
	name := form.Get("UserName")
	if _, given := form["UserName"]; !given {
		if f.caller == "" {
			return "", nil, newAPIError(iamStatuses, "ValidationError", "Must specify userName when calling with non-User credentials")
		}
		name = f.caller
	}
	if aerr := validateLength("userName", name, 1, 128); aerr != nil {
		return "", nil, aerr
	}
	if !iamUserPattern.MatchString(name) {
		return "", nil, patternError("userName", name, iamUserPattern)
	}
	u := f.users[name]
	if u == nil {
		return "", nil, newAPIError(iamStatuses, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name))
	}
	return name, u, nil
}

// listMFADevices serves ListMFADevices.
func (f *IAM) listMFADevices(form url.Values) (any, *apiError) {
	_, u, aerr := f.user(form)
	if aerr != nil {
		return nil, aerr
	}
	start, end, next, aerr := f.page(len(u.devices), form)
	if aerr != nil {
		return nil, aerr
	}
	res := &listMFADevicesResult{IsTruncated: next != "", Marker: next}
	res.MFADevices.Member = []xmlMFADevice{}
	for _, d := range u.devices[start:end] {
		res.MFADevices.Member = append(res.MFADevices.Member, xmlMFADevice{
			UserName: d.UserName, SerialNumber: d.SerialNumber, EnableDate: d.EnableDate.Format(time.RFC3339),
		})
	}
	return res, nil
}

// listUserTags serves ListUserTags; tags are listed in key order.
func (f *IAM) listUserTags(form url.Values) (any, *apiError) {
	if _, given := form["UserName"]; !given {
		return nil, newAPIError(iamStatuses, "ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	_, u, aerr := f.user(form)
	if aerr != nil {
		return nil, aerr
	}
	keys := make([]string, 0, len(u.tags))
	for k := range u.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start, end, next, aerr := f.page(len(keys), form)
	if aerr != nil {
		return nil, aerr
	}
	res := &listUserTagsResult{IsTruncated: next != "", Marker: next}
	res.Tags.Member = []xmlTag{}
	for _, k := range keys[start:end] {
		res.Tags.Member = append(res.Tags.Member, xmlTag{Key: k, Value: u.tags[k]})
	}
	return res, nil
}

// deactivateMFADevice serves DeactivateMFADevice.
func (f *IAM) deactivateMFADevice(form url.Values) *apiError {
	serial := form.Get("SerialNumber")
	if _, given := form["SerialNumber"]; !given {
		return newAPIError(iamStatuses, "ValidationError", "1 validation error detected: Value null at 'serialNumber' failed to satisfy constraint: Member must not be null")
	}
	if aerr := validateLength("serialNumber", serial, 9, 256); aerr != nil {
		return aerr
	}
	if !iamSerialPattern.MatchString(serial) {
		return patternError("serialNumber", serial, iamSerialPattern)
	}
	notFound := newAPIError(iamStatuses, "NoSuchEntity", fmt.Sprintf("MFA Device with serial number %s does not exist.", serial))
	if _, given := form["UserName"]; given {
		_, u, aerr := f.user(form)
		if aerr != nil {
			return aerr
		}
		if !removeDevice(u, serial) {
			return notFound
		}
		return nil
	}
	// Without UserName (allowed since 2024-11-14) the serial alone names
	// the device.
	for _, u := range f.users {
		if removeDevice(u, serial) {
			return nil
		}
	}
	return notFound
}

// removeDevice deletes serial from u and reports whether it was there.
func removeDevice(u *iamUser, serial string) bool {
	for i, d := range u.devices {
		if d.SerialNumber == serial {
			u.devices = slices.Delete(u.devices, i, i+1)
			return true
		}
	}
	return false
}

// getLoginProfile serves GetLoginProfile.
func (f *IAM) getLoginProfile(form url.Values) (any, *apiError) {
	name, u, aerr := f.user(form)
	if aerr != nil {
		return nil, aerr
	}
	if !u.loginProfile {
		return nil, newAPIError(iamStatuses, "NoSuchEntity", fmt.Sprintf("Login Profile for User %s cannot be found.", name))
	}
	res := &getLoginProfileResult{}
	res.LoginProfile.UserName = name
	res.LoginProfile.CreateDate = u.created.UTC().Format(time.RFC3339)
	return res, nil
}

// page applies MaxItems (1-1000, default 100) and Marker to a list of n
// items. It returns the slice bounds and the marker for the next page, which
// is empty on the last page.
func (f *IAM) page(n int, form url.Values) (start, end int, next string, aerr *apiError) {
	size := 100
	if s := form.Get("MaxItems"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 1000 {
			return 0, 0, "", newAPIError(iamStatuses, "ValidationError",
				fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", s))
		}
		size = v
	}
	if f.maxPage > 0 && size > f.maxPage {
		size = f.maxPage
	}
	if m := form.Get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		off, ok := strings.CutPrefix(string(raw), "fake-marker:")
		v, convErr := strconv.Atoi(off)
		if err != nil || !ok || convErr != nil || v < 0 || v > n {
			return 0, 0, "", newAPIError(iamStatuses, "ValidationError", "Invalid Marker.")
		}
		start = v
	}
	end = min(start+size, n)
	if end < n {
		next = base64.RawURLEncoding.EncodeToString([]byte("fake-marker:" + strconv.Itoa(end)))
	}
	return start, end, next, nil
}

// validateLength checks a string parameter's length like IAM does.
func validateLength(member, v string, lo, hi int) *apiError {
	switch {
	case len(v) < lo:
		return newAPIError(iamStatuses, "ValidationError", fmt.Sprintf(
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", v, member, lo))
	case len(v) > hi:
		return newAPIError(iamStatuses, "ValidationError", fmt.Sprintf(
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, member, hi))
	}
	return nil
}

// patternError is the ValidationError for a value that fails a pattern.
func patternError(member, v string, re *regexp.Regexp) *apiError {
	pattern := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
	return newAPIError(iamStatuses, "ValidationError", fmt.Sprintf(
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", v, member, pattern))
}
