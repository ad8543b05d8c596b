package store

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/simulate"
)

// TestEngineOverStoreMatchesMemState runs the detection engine over every
// simulated scenario twice, once on MemState and once on the store (across
// several transactions and a reopen), and requires the same incidents.
func TestEngineOverStoreMatchesMemState(t *testing.T) {
	var buf bytes.Buffer
	if _, err := simulate.WriteJSONLines(&buf, simulate.Options{Scenarios: []string{"all"}, Seed: 7, Duplicates: 0.2}); err != nil {
		t.Fatal(err)
	}
	var events []cloudtrail.SignIn
	if _, err := cloudtrail.Decode(context.Background(), &buf, "sim", cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error { events = append(events, s); return nil },
	}); err != nil {
		t.Fatal(err)
	}
	engine, err := detect.New(detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mem := detect.NewMemState()
	for _, e := range events {
		if _, err := engine.Apply(mem, e); err != nil {
			t.Fatal(err)
		}
	}

	s := openTest(t)
	half := len(events) / 2
	for i, part := range [][]cloudtrail.SignIn{events[:half], events[half:]} {
		if i == 1 {
			s = reopenTest(t, s)
		}
		update(t, s, func(tx *Tx) error {
			for _, e := range part {
				if _, err := engine.Apply(tx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	got, err := s.ListIncidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := mem.Incidents()
	if len(got) != len(want) || len(want) < 7 {
		t.Fatalf("incidents: store has %d, memory %d (want at least 7)", len(got), len(want))
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if !bytes.Equal(g, w) {
			t.Errorf("incident %d:\nstore  %s\nmemory %s", i, g, w)
		}
	}
}
