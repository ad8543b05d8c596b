package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/store"
)

func TestAuditVerify(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		for _, a := range []string{"detected", "investigate", "resolve"} {
			if _, err := tx.AppendAudit(store.AuditEntry{Time: time.Unix(1, 0), Actor: "U1", Action: a, IncidentID: "INC-1"}); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", "audit", "verify", "--db", db)
	if code != 0 || !strings.Contains(out, "intact: 3 entries") {
		t.Fatalf("intact log: exit %d, %q %q", code, out, errOut)
	}

	// Someone with the file edits the second entry's action.
	raw, err := bbolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		return b.Put(k, []byte(strings.Replace(string(b.Get(k)), `"investigate"`, `"nothing"`, 1)))
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmd(t, "", "audit", "verify", "--db", db)
	if code != 1 || !strings.Contains(errOut, "tampered") {
		t.Fatalf("tampered log: exit %d, %q; want exit 1 saying it was tampered with", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "audit"); code != 2 {
		t.Fatalf("audit without verify: exit %d, want 2", code)
	}
}
