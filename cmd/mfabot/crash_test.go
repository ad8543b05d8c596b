package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// mfabotBinary builds the command once for the tests that run it as a
// separate process.
func mfabotBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mfabot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "mfabot")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// process is `mfabot run` in a child process against the local world.
type process struct {
	cmd  *exec.Cmd
	done chan error
	log  *syncBuffer
}

// writeConfig writes the world's configuration where the child reads it.
func writeConfig(t *testing.T, w *localWorld, path string) {
	t.Helper()
	b, err := yaml.Marshal(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func startProcess(t *testing.T, bin, cfgPath string, w *localWorld) *process {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(),
		"SLACK_APP_TOKEN="+w.out.appToken, "SLACK_BOT_TOKEN="+w.out.botToken, "SLACK_API_URL="+w.out.slackAPIURL,
		"AWS_ENDPOINT_URL_SQS="+w.sqs.URL(), "AWS_ENDPOINT_URL_IAM="+w.iam.URL(), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS="+w.logs.URL(),
		"AWS_ACCESS_KEY_ID="+awsfake.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+awsfake.SecretAccessKey, "AWS_REGION="+awsfake.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	p := &process{cmd: cmd, done: make(chan error, 1), log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	return p
}

// kill ends the process with SIGKILL: no cleanup of any kind runs.
func (p *process) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("killed process did not exit")
	}
}

// term stops the process with SIGTERM and returns its exit error.
func (p *process) term(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(40 * time.Second):
		p.kill(t)
		t.Fatal("process did not stop within 40 s of SIGTERM")
	}
	return nil
}

// TestCrashAnywhere kills the real `mfabot run` with SIGKILL at many points
// of a scripted run (while ingesting, between recording and posting, right
// after clicks and an approval were acknowledged) and restarts it on the
// same store. At the end every failure event is counted exactly once, each
// incident has exactly one alert message, every acknowledged click took
// effect exactly once, and the store is consistent.
func TestCrashAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bot as a process and kills it many times")
	}
	bin := mfabotBinary(t)
	ctx := context.Background()
	dir := t.TempDir()
	w, err := newLocalWorld(dir, []string{"clock-drift", "brute-force", "wrong-code", "root", "token-expiry"}, time.Now().Add(-6*time.Hour).Truncate(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.cfg.Slack.GroupWait = 300 * time.Millisecond
	w.sqs.SetVisibilityTimeout(time.Second)
	cfgPath := filepath.Join(dir, "mfabot.yml")
	writeConfig(t, w, cfgPath)
	rng := rand.New(rand.NewPCG(7, 11))
	kills := 0
	var p *process
	connectedBefore := 0
	restart := func() {
		connectedBefore = w.slack.TotalConnections()
		p = startProcess(t, bin, cfgPath, w)
	}
	// connected waits until the current process has its own socket.
	connected := func(d *driver) {
		t.Helper()
		if err := d.wait(ctx, "the bot's connection", func() bool {
			return w.slack.TotalConnections() > connectedBefore && w.slack.ConnectionCount() > 0
		}); err != nil {
			t.Fatal(err)
		}
	}
	killIn := func(d time.Duration) {
		time.Sleep(d)
		p.kill(t)
		kills++
		restart()
	}
	defer func() {
		if p != nil && t.Failed() {
			t.Logf("last process log:\n%s", p.log.String())
			p.kill(t)
		}
	}()

	// While ingesting: the events arrive in three parts, with kills at
	// random moments in between and after.
	restart()
	parts := [][]string{w.bodies[:len(w.bodies)/3], w.bodies[len(w.bodies)/3 : 2*len(w.bodies)/3], w.bodies[2*len(w.bodies)/3:]}
	for _, part := range parts {
		for _, b := range part {
			w.sqs.Send(b)
		}
		killIn(time.Duration(rng.IntN(400)) * time.Millisecond)
		// Between recording and posting: around the group window.
		killIn(250*time.Millisecond + time.Duration(rng.IntN(200))*time.Millisecond)
	}
	d := &driver{w: w, timeout: 30 * time.Second}
	if err := d.wait(ctx, "the queue to drain", func() bool { return len(w.sqs.Visible())+len(w.sqs.InFlight()) == 0 }); err != nil {
		t.Fatal(err)
	}
	user := w.failing[0]
	affected := w.affected[user]
	alertOf := func(id string) string {
		for _, m := range topLevel(w) {
			if strings.Contains(string(m.Blocks), `"value":"`+id+`"`) {
				return m.TS
			}
		}
		return ""
	}
	// The incident ids are assigned in event order; INC-1 is the first
	// failing user's (the clock drift).
	const inc1 = "INC-1"
	var ts string
	if err := d.wait(ctx, "the first alert", func() bool { ts = alertOf(inc1); return ts != "" }); err != nil {
		t.Fatal(err)
	}

	// Right after acknowledged clicks: each click is acked, then the
	// process dies at once; the work must still happen, once.
	clickThenKill := func(user, channel, ts, action string) {
		t.Helper()
		connected(d)
		if err := d.click(ctx, user, channel, ts, action, inc1); err != nil {
			t.Fatal(err)
		}
		p.kill(t)
		kills++
		restart()
	}
	clickThenKill(localResponder, localChannel, ts, handlers.ActionInvestigate)
	clickThenKill(localResponder, localChannel, ts, handlers.ActionNotifyUser)
	var dm string
	if err := d.wait(ctx, "the DM", func() bool {
		if ms := w.slack.DMs(affected); len(ms) > 0 {
			dm = ms[0].TS
			return true
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	dmChannel, _ := w.slack.DMChannel(affected)
	clickThenKill(affected, dmChannel, dm, handlers.ActionUserStillFailing)
	var prompt string
	if err := d.wait(ctx, "the reset prompt", func() bool {
		for _, m := range w.slack.Thread(localChannel, ts) {
			if strings.Contains(string(m.Blocks), `"action_id":"`+handlers.ActionApproveReset+`"`) {
				prompt = m.TS
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	// During an approval: the modal is submitted, acked, and the process
	// dies before (or while) deactivating.
	connected(d)
	// The approver clicks until the modal opens: a click that comes before
	// the bot has recorded its prompt is refused, as it should be.
	opened := false
	for attempt := 0; attempt < 15 && !opened; attempt++ {
		if err := d.click(ctx, localApprover, localChannel, prompt, handlers.ActionApproveReset, inc1); err != nil {
			t.Fatal(err)
		}
		quick := &driver{w: w, timeout: 2 * time.Second}
		opened = quick.wait(ctx, "the modal", func() bool {
			for _, v := range w.slack.Views() {
				if v.UserID == localApprover && v.CallbackID == handlers.CallbackApproveReset && !v.Closed {
					return true
				}
			}
			return false
		}) == nil
	}
	if err := d.submit(ctx, localApprover, handlers.CallbackApproveReset, map[string]map[string]string{
		handlers.BlockVerification: {handlers.ActionVerification: "In person"}}); err != nil {
		t.Fatal(err)
	}
	p.kill(t)
	kills++
	restart()
	clickThenKill(localResponder, localChannel, ts, handlers.ActionResolve)

	// Let the last process finish its work, then stop it cleanly.
	if err := d.wait(ctx, "the re-enrolment DM", func() bool { return len(w.slack.DMs(affected)) >= 2 }); err != nil {
		t.Fatal(err)
	}
	if err := d.wait(ctx, "the resolved alert", func() bool {
		m, _ := w.slack.Message(localChannel, ts)
		return strings.Contains(m.Text+string(m.Blocks), "esolved")
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let the other alerts settle
	if err := p.term(t); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.log.String())
	}
	p = nil
	t.Logf("killed the bot %d times", kills)

	st, err := store.Open(w.cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("store check: %v", err)
	}
	if _, err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit: %v", err)
	}
	incs, err := st.ListIncidents(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Every failure event counted exactly once, per subject.
	want := map[string]int{}
	for _, s := range w.signIns {
		if s.Outcome != cloudtrail.Failure {
			continue
		}
		switch {
		case s.IdentityType == cloudtrail.IdentityRoot:
			want[(incident.Subject{Kind: incident.KindRoot, Account: s.Account}).Key()]++
		case s.UserName != "":
			want[(incident.Subject{Kind: incident.KindUser, Account: s.Account, User: s.UserName}).Key()]++
		}
	}
	got := map[string]int{}
	for _, inc := range incs {
		got[inc.Subject.Key()] += inc.Failures
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failures per subject:\ngot  %v\nwant %v", got, want)
	}

	// Exactly one alert message per incident, and no other.
	for _, inc := range incs {
		n := 0
		mentions := regexp.MustCompile(regexp.QuoteMeta(inc.ID) + `([^0-9]|$)`)
		for _, m := range topLevel(w) {
			if mentions.MatchString(string(m.Blocks)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s (%s): %d alert messages, want 1", inc.ID, inc.Subject, n)
		}
	}
	if n := len(topLevel(w)); n != len(incs) {
		t.Errorf("top-level messages: %d for %d incidents", n, len(incs))
	}

	// Every acknowledged click took effect exactly once.
	count := func(action, outcome string) int {
		n := 0
		st.View(ctx, func(tx *store.Tx) error {
			es, err := tx.AuditEntries(inc1)
			for _, e := range es {
				if e.Action == action && (outcome == "" || e.Outcome == outcome) {
					n++
				}
			}
			return err
		})
		return n
	}
	for _, c := range []struct {
		action, outcome string
	}{
		{"investigate", "started"}, {"notify user", ""}, {"user answered", "still failing"},
		{"approve reset", "approved"}, {"reset", "MFA deactivated"}, {"resolve", "resolved"},
	} {
		if n := count(c.action, c.outcome); n != 1 {
			t.Errorf("audit %q %q: %d entries, want exactly 1", c.action, c.outcome, n)
		}
	}
	reports := 0
	for _, m := range w.slack.Thread(localChannel, ts) {
		if strings.Contains(m.Text+string(m.Blocks), "Investigation") {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("investigation reports in the thread: %d, want 1", reports)
	}
	if n := len(w.slack.DMs(affected)); n != 2 {
		t.Errorf("DMs to the user: %d, want 2 (guidance, re-enrolment)", n)
	}
	if n := len(w.iam.Devices(user)); n != 0 {
		t.Errorf("MFA devices left: %d, want 0", n)
	}
}
