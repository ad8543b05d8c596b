package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestInbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfabot.db.inbox")
	in, err := OpenInbox(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := in.Add("interactive", []byte(`{"type":"block_actions"}`), t0)
	b, _ := in.Add("slash_commands", []byte(`{"command":"/mfa"}`), t0.Add(time.Second))
	if err := in.Done(a); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenInbox(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	in.Close()

	in, err = OpenInbox(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p, err := in.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].ID != b || p[0].Type != "slash_commands" || string(p[0].Payload) != `{"command":"/mfa"}` || !p[0].Received.Equal(t0.Add(time.Second)) {
		t.Fatalf("pending after reopen: %+v", p)
	}
}
