package incident

import (
	"errors"
	"testing"
	"time"
)

func TestStatusMachine(t *testing.T) {
	all := []Status{StatusOpen, StatusRecovered, StatusResolved, StatusMerged}
	allowed := map[[2]Status]bool{
		{StatusOpen, StatusRecovered}:     true,
		{StatusOpen, StatusResolved}:      true,
		{StatusOpen, StatusMerged}:        true,
		{StatusRecovered, StatusResolved}: true,
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, from := range all {
		for _, to := range all {
			inc := &Incident{ID: "INC-1", Status: from}
			err := inc.Move(to, at)
			if want := allowed[[2]Status{from, to}]; (err == nil) != want {
				t.Errorf("%s -> %s: got err %v, want allowed=%v", from, to, err, want)
			}
			if err != nil && !errors.Is(err, ErrBadTransition) {
				t.Errorf("%s -> %s: error %v does not wrap ErrBadTransition", from, to, err)
			}
			if err == nil && to == StatusResolved && (inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(at)) {
				t.Errorf("%s -> resolved: ResolvedAt %v, want %v", from, inc.ResolvedAt, at)
			}
		}
	}
}

func TestSubjectKeysNeverCollide(t *testing.T) {
	subjects := []Subject{
		{Kind: KindUser, Account: "111122223333", User: "ana"},
		{Kind: KindUser, Account: "444455556666", User: "ana"},
		{Kind: KindIdentityCenterUser, Account: "111122223333", User: "ana"},
		{Kind: KindRoot, Account: "111122223333"},
		{Kind: KindSourceIP, Account: "111122223333", SourceIP: "192.0.2.1"},
	}
	seen := map[string]Subject{}
	for _, s := range subjects {
		if o, dup := seen[s.Key()]; dup {
			t.Fatalf("%+v and %+v share key %q", s, o, s.Key())
		}
		seen[s.Key()] = s
	}
	if got := (Subject{Kind: KindUser, Account: "1", User: "ana"}).IsPerson(); !got {
		t.Error("an IAM user is a person")
	}
	if got := (Subject{Kind: KindRoot, Account: "1"}).IsPerson(); got {
		t.Error("root is not a person mfabot may DM or reset")
	}
}
