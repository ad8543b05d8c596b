package handlers

import (
	"errors"
	"testing"

	"github.com/mfabot/mfabot/internal/incident"
)

func TestAuthorisation(t *testing.T) {
	a := &App{Cfg: Config{AlertChannel: "C1", Responders: []string{"URESP", "UAPPR"}, Approvers: []string{"UAPPR", "UAPPR2"}}}
	al := &incident.Alert{IncidentID: "INC-1", Channel: "C1", TS: "1.1", SlackUser: "UUSER", DMChannel: "DUSER", DMTS: "2.2",
		Reset: &incident.Reset{Status: incident.ResetPending, RequestedBy: "UAPPR", MessageTS: "3.3"}}
	decided := *al
	decided.Reset = &incident.Reset{Status: incident.ResetDenied, RequestedBy: "URESP", MessageTS: "3.3"}

	tests := []struct {
		name  string
		check func() error
		ok    bool
	}{
		{"responder on the alert", func() error { return a.channelAction(Click{User: "URESP", Channel: "C1", MessageTS: "1.1"}, al) }, true},
		{"display name is not an ID", func() error { return a.channelAction(Click{User: "@sam", Channel: "C1", MessageTS: "1.1"}, al) }, false},
		{"outsider on the alert", func() error { return a.channelAction(Click{User: "UOUT", Channel: "C1", MessageTS: "1.1"}, al) }, false},
		{"responder in another channel", func() error { return a.channelAction(Click{User: "URESP", Channel: "C2", MessageTS: "1.1"}, al) }, false},
		{"responder on another message", func() error { return a.channelAction(Click{User: "URESP", Channel: "C1", MessageTS: "9.9"}, al) }, false},
		{"the person in their DM", func() error { return a.userAction(Click{User: "UUSER", Channel: "DUSER", MessageTS: "2.2"}, al) }, true},
		{"a responder in the person's DM", func() error { return a.userAction(Click{User: "URESP", Channel: "DUSER", MessageTS: "2.2"}, al) }, false},
		{"the person on another message", func() error { return a.userAction(Click{User: "UUSER", Channel: "DUSER", MessageTS: "1.1"}, al) }, false},
		{"the person before any DM", func() error {
			return a.userAction(Click{User: "UUSER", Channel: "", MessageTS: ""}, &incident.Alert{})
		}, false},
		{"another approver approves", func() error {
			return a.approverAction(Click{User: "UAPPR2", Channel: "C1", MessageTS: "3.3"}, al, true)
		}, true},
		{"the requester approves their own request", func() error {
			return a.approverAction(Click{User: "UAPPR", Channel: "C1", MessageTS: "3.3"}, al, true)
		}, false},
		{"the requester may deny it", func() error {
			return a.approverAction(Click{User: "UAPPR", Channel: "C1", MessageTS: "3.3"}, al, false)
		}, true},
		{"a responder who is not an approver", func() error {
			return a.approverAction(Click{User: "URESP", Channel: "C1", MessageTS: "3.3"}, al, true)
		}, false},
		{"an approver on the alert, not the prompt", func() error {
			return a.approverAction(Click{User: "UAPPR2", Channel: "C1", MessageTS: "1.1"}, al, true)
		}, false},
		{"an approver on a decided request", func() error {
			return a.approverAction(Click{User: "UAPPR2", Channel: "C1", MessageTS: "3.3"}, &decided, true)
		}, false},
	}
	for _, tt := range tests {
		err := tt.check()
		var r *Refusal
		if (err == nil) != tt.ok {
			t.Errorf("%s: got %v, want allowed=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.As(err, &r) {
			t.Errorf("%s: %v is not a *Refusal", tt.name, err)
		}
	}
}

func TestValidIncidentIDs(t *testing.T) {
	for id, want := range map[string]bool{"INC-1": true, "INC-42": true, "INC-0": false, "INC-": false, "inc-1": false,
		"INC-1 ": false, "INC-1\nINC-2": false, "INC-1234567890123456789": false, "": false, "42": false} {
		if got := validID.MatchString(id); got != want {
			t.Errorf("validID(%q): got %v, want %v", id, got, want)
		}
	}
}

func TestIAMActionsStayInTheirAccount(t *testing.T) {
	a := &App{Cfg: Config{Account: "111122223333"}}
	own := &incident.Incident{ID: "INC-1", Subject: incident.Subject{Kind: incident.KindUser, Account: "111122223333", User: "ana"}}
	other := &incident.Incident{ID: "INC-2", Subject: incident.Subject{Kind: incident.KindUser, Account: "444455556666", User: "ana"}}
	if err := a.iamPerson(own); err != nil {
		t.Fatalf("own account: %v", err)
	}
	var r *Refusal
	if err := a.iamPerson(other); !errors.As(err, &r) {
		t.Fatalf("other account: got %v, want a refusal", err)
	}
	if err := (&App{}).iamPerson(other); err != nil {
		t.Fatalf("no account configured: %v", err)
	}
}
