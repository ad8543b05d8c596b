package main

// Benchmarks of the whole bot against the local fakes, for README's
// performance table (bench/burst.sh runs them and prints it):
//
//	go test -run '^$' -bench 'Burst|Interaction' -benchtime 1x ./cmd/mfabot
//
// BenchmarkBurst builds mfabot and runs `mfabot run` as a child process, so
// that its peak RSS is the bot's alone; the fakes (Slack, SQS, IAM, Logs)
// run in the benchmark process on 127.0.0.1. BenchmarkInteraction runs the
// bot in-process with serve, because it observes acknowledgements through
// bot.Options.OnAck. Neither asserts a timing; both check that nothing was
// lost.
//
// MFABOT_BENCH_LOG=FILE keeps the child's log of the last burst;
// MFABOT_BENCH_DEBUG=FILE writes the burst's receives and deletes per 250 ms,
// or every ack and click latency of the interaction run.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/simulate"
	"github.com/mfabot/mfabot/store"
)

// ---------------------------------------------------------------------------
// Synthetic sign-in failures, shaped like reference §3.2 (an IAM user's
// failure at the MFA step), §3.3 (a failure at the password step, and a
// name CloudTrail hid) and wrapped in the §3.8 EventBridge envelope.

type ctIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName"`
}

type ctAdditional struct {
	LoginTo       string `json:"LoginTo"`
	MobileVersion string `json:"MobileVersion"`
	MFAUsed       string `json:"MFAUsed"`
}

type ctTLS struct {
	TLSVersion  string `json:"tlsVersion"`
	CipherSuite string `json:"cipherSuite"`
	Host        string `json:"clientProvidedHostHeader"`
}

type ctRecord struct {
	EventVersion        string            `json:"eventVersion"`
	UserIdentity        ctIdentity        `json:"userIdentity"`
	EventTime           string            `json:"eventTime"`
	EventSource         string            `json:"eventSource"`
	EventName           string            `json:"eventName"`
	AWSRegion           string            `json:"awsRegion"`
	SourceIPAddress     string            `json:"sourceIPAddress"`
	UserAgent           string            `json:"userAgent"`
	ErrorMessage        string            `json:"errorMessage"`
	RequestParameters   *struct{}         `json:"requestParameters"`
	ResponseElements    map[string]string `json:"responseElements"`
	AdditionalEventData ctAdditional      `json:"additionalEventData"`
	EventID             string            `json:"eventID"`
	ReadOnly            bool              `json:"readOnly"`
	EventType           string            `json:"eventType"`
	ManagementEvent     bool              `json:"managementEvent"`
	RecipientAccountID  string            `json:"recipientAccountId"`
	EventCategory       string            `json:"eventCategory"`
	TLSDetails          *ctTLS            `json:"tlsDetails,omitempty"`
}

type ebEvent struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     ctRecord `json:"detail"`
}

// benchFailure is one failed console sign-in to generate.
type benchFailure struct {
	at      time.Time
	user    string // "" for a name CloudTrail hid
	ip, ua  string
	region  string
	mfaUsed string // "Yes": failed at the MFA step; "No": at the password
}

const benchHiddenName = "HIDDEN_DUE_TO_SECURITY_REASONS"

var benchAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
}

var benchRegions = []string{"us-east-1", "us-east-1", "us-east-1", "us-east-2", "eu-north-1", "ap-southeast-2"}

// uuidFrom returns a random version-4 UUID drawn from r.
func benchUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// principalID derives a stable AIDA… id for a user.
func benchPrincipalID(user string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(user); i++ {
		h = (h ^ uint64(user[i])) * 1099511628211
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	out := []byte("AIDA")
	for range 17 {
		out = append(out, alphabet[h%32])
		h = h/32 ^ h*2654435761
	}
	return string(out)
}

// eventBridgeBody renders one failure as the EventBridge event SQS delivers.
func eventBridgeBody(f benchFailure, account string, r *rand.Rand) string {
	rec := ctRecord{
		EventVersion: "1.11",
		UserIdentity: ctIdentity{Type: "IAMUser", AccountID: account, UserName: f.user},
		EventTime:    f.at.UTC().Format(time.RFC3339), EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		AWSRegion: f.region, SourceIPAddress: f.ip, UserAgent: f.ua, ErrorMessage: "Failed authentication",
		ResponseElements: map[string]string{"ConsoleLogin": "Failure"},
		AdditionalEventData: ctAdditional{MobileVersion: "No", MFAUsed: f.mfaUsed,
			LoginTo: "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_" + f.region + "_" + fmt.Sprintf("%016x", r.Uint64())},
		EventID: benchUUID(r), EventType: "AwsConsoleSignIn", ManagementEvent: true,
		RecipientAccountID: account, EventCategory: "Management",
	}
	if f.user == "" {
		rec.EventVersion = "1.09"
		rec.UserIdentity.UserName = benchHiddenName
		rec.ErrorMessage = "No username found in supplied account"
		rec.AdditionalEventData.LoginTo = "https://console.aws.amazon.com/console/home"
	} else {
		rec.UserIdentity.PrincipalID = benchPrincipalID(f.user)
		rec.TLSDetails = &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", Host: "signin.aws.amazon.com"}
	}
	ev := ebEvent{Version: "0", ID: benchUUID(r), DetailType: "AWS Console Sign In via CloudTrail", Source: "aws.signin",
		Account: account, Time: rec.EventTime, Region: f.region, Resources: []string{}, Detail: rec}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The burst: 10,000 failed sign-ins within one minute of event time.
// Six addresses spray 500 user names (and some names that do not exist)
// at the password step, 8,000 attempts; 24 other addresses guess the MFA
// codes of 3 users whose passwords leaked, 2,000 attempts. mfabot should
// end with 6 password sprays and 3 brute forces, and count every failure
// once in them; the users whose first failures came before their sprayer
// crossed the spray threshold get incidents that are merged into the spray
// before anyone sees them.
const (
	burstTotal      = 10_000
	burstSpray      = 8_000
	burstSprayIPs   = 6
	burstSprayUsers = 500
	burstBFIPs      = 24
	burstBFUsers    = 3
	burstHiddenOnce = 25 // every 25th spray attempt names no user
	burstSpan       = time.Minute
)

type burstTraffic struct {
	bodies     []string
	first      time.Time
	last       time.Time
	users, ips int
}

var (
	firstNames = []string{"amara", "bo", "carmen", "dmitri", "elif", "farah", "goran", "hana", "ivan", "jia",
		"kofi", "lucia", "mateo", "nadia", "oskar", "priya", "quinn", "rafael", "sofia", "tariq",
		"ursula", "vikram", "wen", "ximena", "yusuf"}
	lastNames = []string{"abbott", "becker", "chen", "diallo", "eriksen", "fischer", "garcia", "haddad", "ito",
		"jensen", "kowalski", "lindqvist", "moreau", "novak", "okafor", "petrov", "rossi", "silva", "tanaka", "weber"}
)

func makeBurst(start time.Time) burstTraffic {
	r := rand.New(rand.NewPCG(7, 42))
	var users []string
	for _, l := range lastNames {
		for _, f := range firstNames {
			users = append(users, f+"."+l)
		}
	}
	users = users[:burstSprayUsers]
	bfUsers := []string{"ops.admin", "billing.lead", "ci-deployer"}
	var fails []benchFailure
	perIP := burstSpray / burstSprayIPs
	for k := range burstSprayIPs {
		n := perIP
		if k == burstSprayIPs-1 {
			n = burstSpray - perIP*(burstSprayIPs-1)
		}
		ip := fmt.Sprintf("203.0.113.%d", 10+k)
		ua := benchAgents[k%len(benchAgents)]
		// Each sprayer walks the user list from its own offset, so the
		// first names it tries are not another sprayer's first names.
		off := k * (burstSprayUsers / burstSprayIPs)
		for j := range n {
			f := benchFailure{at: start.Add(burstSpan * time.Duration(j) / time.Duration(n)).Truncate(time.Second),
				ip: ip, ua: ua, region: "us-east-1", mfaUsed: "No"}
			if j%burstHiddenOnce != burstHiddenOnce-1 {
				f.user = users[(off+j)%len(users)]
			}
			fails = append(fails, f)
		}
	}
	bf := burstTotal - burstSpray
	for j := range bf {
		ip := fmt.Sprintf("198.51.100.%d", 20+(j/burstBFUsers)%burstBFIPs)
		fails = append(fails, benchFailure{at: start.Add(burstSpan * time.Duration(j) / time.Duration(bf)).Truncate(time.Second),
			user: bfUsers[j%burstBFUsers], ip: ip, ua: benchAgents[(j/7)%len(benchAgents)],
			region: benchRegions[j%len(benchRegions)], mfaUsed: "Yes"})
	}
	// Delivery order: by event time, shuffled within each second.
	r.Shuffle(len(fails), func(i, j int) { fails[i], fails[j] = fails[j], fails[i] })
	slices.SortStableFunc(fails, func(a, b benchFailure) int { return a.at.Compare(b.at) })
	out := burstTraffic{first: fails[0].at, last: fails[len(fails)-1].at, users: len(users) + len(bfUsers), ips: burstSprayIPs + burstBFIPs}
	for _, f := range fails {
		out.bodies = append(out.bodies, eventBridgeBody(f, simulate.DefaultAccount, r))
	}
	return out
}

// ---------------------------------------------------------------------------
// Measuring helpers.

// percentile returns the p-th percentile (0-100) of xs, nearest rank.
func benchPercentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tsTime turns a Slack message ts into the time it was made.
func benchTSTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000)
}

// pollUntil checks cond every interval until it holds or timeout passes.
func benchPoll(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// chatCalls counts the calls that post or edit a message.
type chatCalls struct {
	posts, threadPosts, updates, rateLimited int
}

func (c chatCalls) total() int { return c.posts + c.threadPosts + c.updates }

func countChat(calls []slackfake.Call) chatCalls {
	var c chatCalls
	for _, call := range calls {
		switch call.Method {
		case "chat.postMessage":
			if call.Params["thread_ts"] != "" {
				c.threadPosts++
			} else {
				c.posts++
			}
		case "chat.update":
			c.updates++
		default:
			continue
		}
		if call.Error == "ratelimited" {
			c.rateLimited++
		}
	}
	return c
}

// storeOutcome is what the store says after a run.
type storeOutcome struct {
	incidents, alerted, merged int
	counted                    int // failures in incidents that were not merged
	unsynced                   int // alerts behind their revision, and Slack work left
	alerts                     []*incident.Alert
}

func benchOutcome(ctx context.Context, st *store.Store) (storeOutcome, error) {
	var o storeOutcome
	err := st.View(ctx, func(tx *store.Tx) error {
		incs, err := tx.Incidents()
		if err != nil {
			return err
		}
		for _, inc := range incs {
			o.incidents++
			if inc.Status == incident.StatusMerged {
				o.merged++
				continue
			}
			o.counted += inc.Failures
			al, err := tx.Alert(inc.ID)
			if err != nil {
				return err
			}
			if al == nil || al.TS == "" || al.PostedRev < al.Rev {
				o.unsynced++
			}
			if al != nil && al.TS != "" {
				o.alerted++
				o.alerts = append(o.alerts, al)
			}
		}
		due, err := tx.Dirty()
		o.unsynced += len(due)
		return err
	})
	return o, err
}

// finalAt is when the alert reached the state it shows now: its post, or
// its last successful chat.update.
func benchFinalAt(updates []slackfake.Call, al *incident.Alert) time.Time {
	at := benchTSTime(al.TS)
	for _, c := range updates {
		if c.Params["ts"] == al.TS && c.Error == "" && c.At.After(at) {
			at = c.At
		}
	}
	return at
}

// ---------------------------------------------------------------------------
// BenchmarkBurst: the real binary, fed 10,000 failures through SQS.

// buildBot builds mfabot into dir.
func buildBot(b *testing.B, dir string) string {
	b.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "mfabot")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// burstConfig is the mfabot.yml of the child: localWorld's settings.
func burstConfig(queueURL, dbPath string, groupWait time.Duration) string {
	return fmt.Sprintf(`slack:
  alert_channel: %s
  responders: [%s, %s]
  approvers: [%s, %s]
  group_wait: %s
aws:
  region: %s
  cloudtrail_log_group: %s
sources:
  sqs_queue_url: %s
users:
  iam_tag: %s
  email_domain: example.com
store:
  path: %s
runbook_url: https://wiki.example.com/runbooks/aws-console-mfa
`, localChannel, localResponder, localApprover, localApprover, localApprover2, groupWait,
		awsfake.Region, localLogGroup, queueURL, localTagKey, dbPath)
}

// burstRun is what one run measured.
type burstRun struct {
	eventsPerSec  float64
	toFinal       time.Duration
	peakRSSMB     float64
	chat          chatCalls
	budget        int
	outcome       storeOutcome
	lost          int
	ingestElapsed time.Duration
}

const burstGroupWait = time.Second

func runBurst(b *testing.B, bin string, bu burstTraffic) burstRun {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	sl := slackfake.New(slackfake.Options{
		Users: []slackfake.User{
			{ID: localResponder, Name: "sam", RealName: "Sam Responder", Email: "sam@example.com"},
			{ID: localApprover, Name: "ana", RealName: "Ana Approver", Email: "ana@example.com"},
			{ID: localApprover2, Name: "lee", RealName: "Lee Approver", Email: "lee@example.com"},
		},
		Channels: []slackfake.Channel{{ID: localChannel, Name: "sec-mfa-alerts",
			Members: []string{slackfake.DefaultBotUserID, localResponder, localApprover, localApprover2}}},
	})
	defer sl.Close()
	iamF, logsF, sqsF := awsfake.NewIAM(), awsfake.NewLogs(), awsfake.NewSQS()
	defer iamF.Close()
	defer logsF.Close()
	defer sqsF.Close()

	cfgPath := filepath.Join(dir, "mfabot.yml")
	dbPath := filepath.Join(dir, "mfabot.db")
	if err := os.WriteFile(cfgPath, []byte(burstConfig(sqsF.QueueURL(), dbPath, burstGroupWait)), 0o600); err != nil {
		b.Fatal(err)
	}
	logPath := filepath.Join(dir, "mfabot.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"SLACK_APP_TOKEN=" + sl.AppToken(), "SLACK_BOT_TOKEN=" + sl.BotToken(), "SLACK_API_URL=" + sl.APIURL(),
		"AWS_ACCESS_KEY_ID=" + awsfake.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awsfake.SecretAccessKey, "AWS_REGION=" + awsfake.Region,
		"AWS_ENDPOINT_URL_SQS=" + sqsF.URL(), "AWS_ENDPOINT_URL_IAM=" + iamF.URL(), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + logsF.URL(),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fail := func(format string, args ...any) {
		_ = cmd.Process.Kill()
		<-exited
		logs, _ := os.ReadFile(logPath)
		if len(logs) > 4000 {
			logs = logs[len(logs)-4000:]
		}
		b.Fatalf(format+"\nmfabot log (tail):\n%s", append(args, logs)...)
	}

	// Ready: connected to Socket Mode and polling the queue.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = sl.WaitConnected(wctx)
	cancel()
	if err != nil {
		fail("mfabot did not connect: %v", err)
	}
	if !benchPoll(30*time.Second, 10*time.Millisecond, func() bool { return len(sqsF.CallsTo("ReceiveMessage")) > 0 }) {
		fail("mfabot does not poll SQS")
	}
	time.Sleep(200 * time.Millisecond)

	// The burst, as fast as the queue takes it.
	b.ResetTimer()
	t0 := time.Now()
	for _, body := range bu.bodies {
		sqsF.Send(body)
	}
	tEnqueued := time.Now()
	var tDrained time.Time
	if !benchPoll(5*time.Minute, 20*time.Millisecond, func() bool {
		if len(sqsF.Deleted()) < len(bu.bodies) {
			return false
		}
		tDrained = time.Now()
		return true
	}) {
		fail("the queue did not drain: %d of %d messages deleted", len(sqsF.Deleted()), len(bu.bodies))
	}

	// Then let Slack settle: no call for a while, well past the group
	// wait and any Retry-After.
	const quiet = 3 * time.Second
	lastCount, lastChange := -1, time.Now()
	if !benchPoll(5*time.Minute, 50*time.Millisecond, func() bool {
		n := len(sl.Calls())
		if n != lastCount {
			lastCount, lastChange = n, time.Now()
			return false
		}
		return n > 0 && time.Since(lastChange) > quiet && time.Since(tDrained) > burstGroupWait+quiet
	}) {
		fail("Slack did not settle")
	}
	b.StopTimer()

	// Stop the bot and read its peak RSS.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			logs, _ := os.ReadFile(logPath)
			b.Fatalf("mfabot exited with %v\n%s", err, logs)
		}
	case <-time.After(40 * time.Second):
		fail("mfabot did not stop")
	}
	var rssMB float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rssMB = float64(ru.Maxrss) / 1024 // kB on Linux
	}

	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	out, err := benchOutcome(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	calls := sl.Calls()
	var updates []slackfake.Call
	for _, c := range calls {
		if c.Method == "chat.update" {
			updates = append(updates, c)
		}
	}
	var final time.Time
	for _, al := range out.alerts {
		if at := benchFinalAt(updates, al); at.After(final) {
			final = at
		}
	}
	minutes := int(math.Ceil(float64(bu.last.Sub(bu.first)+time.Second) / float64(time.Minute)))
	run := burstRun{
		eventsPerSec:  float64(len(bu.bodies)) / tDrained.Sub(t0).Seconds(),
		toFinal:       final.Sub(tEnqueued),
		peakRSSMB:     rssMB,
		chat:          countChat(calls),
		budget:        2*out.alerted + minutes,
		outcome:       out,
		lost:          len(bu.bodies) - out.counted,
		ingestElapsed: tDrained.Sub(t0),
	}
	if run.lost != 0 {
		b.Errorf("failures counted in incidents: %d, want %d", out.counted, len(bu.bodies))
	}
	if out.unsynced != 0 {
		b.Errorf("%d alerts (or pieces of Slack work) are not in their final state", out.unsynced)
	}
	if err := st.Check(); err != nil {
		b.Errorf("store check: %v", err)
	}
	if os.Getenv("MFABOT_BENCH_DEBUG") != "" {
		buckets := map[int][2]int{}
		for _, c := range sqsF.Calls() {
			i := int(c.Time.Sub(t0) / (250 * time.Millisecond))
			v := buckets[i]
			switch c.Op {
			case "ReceiveMessage":
				v[0]++
			case "DeleteMessageBatch":
				v[1]++
			}
			buckets[i] = v
		}
		var sb strings.Builder
		for i := 0; i < 400; i++ {
			if v, ok := buckets[i]; ok {
				fmt.Fprintf(&sb, "t=%5dms receives=%4d deletes=%4d\n", i*250, v[0], v[1])
			}
		}
		fmt.Fprintf(&sb, "child cpu: %v\n", cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		_ = os.WriteFile(os.Getenv("MFABOT_BENCH_DEBUG"), []byte(sb.String()), 0o644)
	}
	if os.Getenv("MFABOT_BENCH_LOG") != "" {
		logs, _ := os.ReadFile(logPath)
		_ = os.WriteFile(os.Getenv("MFABOT_BENCH_LOG"), logs, 0o644)
	}
	return run
}

func BenchmarkBurst(b *testing.B) {
	bin := buildBot(b, b.TempDir())
	bu := makeBurst(time.Now().Add(-10 * time.Minute).Truncate(time.Minute))
	b.ResetTimer()
	var runs []burstRun
	for range b.N {
		runs = append(runs, runBurst(b, bin, bu))
	}
	// The slowest run is reported.
	r := slices.MinFunc(runs, func(x, y burstRun) int { return benchCmpFloat(x.eventsPerSec, y.eventsPerSec) })
	rss := slices.MaxFunc(runs, func(x, y burstRun) int { return benchCmpFloat(x.peakRSSMB, y.peakRSSMB) }).peakRSSMB
	b.ReportMetric(r.eventsPerSec, "events/s")
	b.ReportMetric(benchMS(r.toFinal), "ms_to_final_state")
	b.ReportMetric(rss, "peak_rss_MB")
	b.ReportMetric(float64(r.chat.total()), "slack_calls")
	b.ReportMetric(float64(r.budget), "slack_call_budget")
	b.ReportMetric(float64(r.outcome.alerted), "incidents")
	b.ReportMetric(float64(r.lost), "failures_lost")
	b.Logf("burst: %d failures (%d users, %d addresses, %s of event time); ingested in %v; %d incidents (%d alerted, %d merged); "+
		"chat calls: %d posts, %d thread posts, %d updates (%d rate-limited)",
		len(bu.bodies), bu.users, bu.ips, bu.last.Sub(bu.first)+time.Second, r.ingestElapsed.Round(time.Millisecond),
		r.outcome.incidents, r.outcome.alerted, r.outcome.merged, r.chat.posts, r.chat.threadPosts, r.chat.updates, r.chat.rateLimited)
}

func benchCmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// BenchmarkInteraction: responders click while Slack and AWS are slow.

// Conditions of the interaction benchmark.
const (
	interactIncidents  = 50                     // alerts to work through, two clicks each
	interactResponders = 1                      // people clicking at once
	interactSlackLag   = 250 * time.Millisecond // on every chat.* call
	interactAWSLag     = 800 * time.Millisecond // on every IAM and Logs call
	interactSQSLag     = 300 * time.Millisecond // on every SQS call
	interactTrickle    = 20                     // background failures per second (one spraying address)
)

// interactionWorld is localWorld with its own traffic: interactIncidents
// users, each with three MFA-stage failures from their own address.
func interactionWorld(dir string, start time.Time) (*localWorld, error) {
	r := rand.New(rand.NewPCG(3, 14))
	w := &localWorld{affected: map[string]string{}}
	var fails []benchFailure
	for i := range interactIncidents {
		user := fmt.Sprintf("%s.%s", firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)])
		ip := fmt.Sprintf("192.0.2.%d", 10+i)
		for k := range 3 {
			fails = append(fails, benchFailure{at: start.Add(time.Duration(i)*5*time.Second + time.Duration(k)*40*time.Second),
				user: user, ip: ip, ua: benchAgents[i%len(benchAgents)], region: "us-east-1", mfaUsed: "Yes"})
		}
		w.failing = append(w.failing, user)
	}
	for _, f := range fails {
		w.bodies = append(w.bodies, eventBridgeBody(f, simulate.DefaultAccount, r))
	}
	if _, err := cloudtrail.Decode(context.Background(), strings.NewReader(strings.Join(w.bodies, "\n")), "bench", cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error { w.signIns = append(w.signIns, s); return nil },
	}); err != nil {
		return nil, err
	}
	w.iam = awsfake.NewIAM()
	for _, u := range w.failing {
		w.iam.AddUser(u, nil, true)
		w.iam.AddMFADevice(u, "arn:aws:iam::"+simulate.DefaultAccount+":mfa/"+u+"-phone", start.Add(-200*24*time.Hour))
	}
	w.logs = awsfake.NewLogs()
	w.logs.SetResponder(w.answerQuery)
	w.sqs = awsfake.NewSQS()
	// Posting sixty alerts at Slack's one message a second would take a
	// minute of set-up; the clicks are measured with latency injected
	// instead.
	opts := w.slackOptions()
	opts.DisableRateLimit = true
	w.slack = slackfake.New(opts)
	w.cfg = defaultConfig()
	w.cfg.Slack.AlertChannel = localChannel
	w.cfg.Slack.Responders = []string{localResponder, localApprover}
	w.cfg.Slack.Approvers = []string{localApprover, localApprover2}
	w.cfg.Slack.GroupWait = 200 * time.Millisecond
	w.cfg.AWS.Region = awsfake.Region
	w.cfg.AWS.CloudTrailLogGroup = localLogGroup
	w.cfg.Sources.SQSQueueURL = w.sqs.QueueURL()
	w.cfg.Users.IAMTag = localTagKey
	w.cfg.Users.EmailDomain = "example.com"
	w.cfg.Store.Path = filepath.Join(dir, "mfabot.db")
	w.cfg.RunbookURL = "https://wiki.example.com/runbooks/aws-console-mfa"
	w.out = outside{
		appToken: w.slack.AppToken(), botToken: w.slack.BotToken(), slackAPIURL: w.slack.APIURL(),
		aws: awsfake.Config(w.sqs.URL()), iamURL: w.iam.URL(), logsURL: w.logs.URL(), sqsURL: w.sqs.URL(),
		pingInterval: 5 * time.Second,
	}
	return w, nil
}

// interactionRun is what one run measured.
type interactionRun struct {
	acks, wireAcks, clickToUpdate []time.Duration
	clicks, late                  int
}

func runInteraction(b *testing.B) interactionRun {
	b.Helper()
	ctx := context.Background()
	start := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)
	w, err := interactionWorld(b.TempDir(), start)
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()

	var mu sync.Mutex
	var acks []time.Duration
	w.out.botOptions.OnAck = func(d time.Duration) {
		mu.Lock()
		acks = append(acks, d)
		mu.Unlock()
	}
	sctx, stop := context.WithCancel(ctx)
	ready := make(chan *handlers.App, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(sctx, w.cfg, w.out, slog.New(slog.DiscardHandler), func(a *handlers.App) { ready <- a })
	}()
	var app *handlers.App
	select {
	case app = <-ready:
	case err := <-served:
		b.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		b.Fatal("serve did not start")
	}
	defer func() {
		stop()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("serve: %v", err)
		}
	}()

	// The alerts to click on.
	w.sendAll()
	alerts := map[string]string{} // incident id -> alert ts
	if !benchPoll(60*time.Second, 20*time.Millisecond, func() bool {
		clear(alerts)
		_ = app.Store.View(ctx, func(tx *store.Tx) error {
			incs, err := tx.Incidents()
			for _, inc := range incs {
				if al, _ := tx.Alert(inc.ID); al != nil && al.TS != "" && al.PostedRev == al.Rev {
					alerts[inc.ID] = al.TS
				}
			}
			return err
		})
		return len(alerts) == interactIncidents
	}) {
		b.Fatalf("alerts posted: %d, want %d", len(alerts), interactIncidents)
	}
	ids := slices.Sorted(maps.Keys(alerts))

	// Slack and AWS turn slow, and failures keep arriving.
	for _, m := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral"} {
		w.slack.SetLatency(m, interactSlackLag)
	}
	w.iam.Fail("*", 0, awsfake.FaultSpec{Latency: interactAWSLag})
	w.logs.Fail("*", 0, awsfake.FaultSpec{Latency: interactAWSLag})
	w.sqs.Fail("*", 0, awsfake.FaultSpec{Latency: interactSQSLag})
	trickleCtx, stopTrickle := context.WithCancel(ctx)
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		r := rand.New(rand.NewPCG(5, 9))
		t := time.NewTicker(time.Second / interactTrickle)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-trickleCtx.Done():
				return
			case <-t.C:
			}
			f := benchFailure{at: time.Now().Add(-time.Minute).Truncate(time.Second), user: fmt.Sprintf("probe-%04d", i),
				ip: "198.51.100.200", ua: benchAgents[0], region: "us-east-1", mfaUsed: "No"}
			w.sqs.Send(eventBridgeBody(f, simulate.DefaultAccount, r))
		}
	}()
	b.ResetTimer()

	// Responders work through the alerts: Investigate, then Resolve, each
	// time waiting for the alert to change.
	var run interactionRun
	var envs []string
	var wg sync.WaitGroup
	var failed error
	for k, who := range []string{localResponder, localApprover}[:interactResponders] {
		wg.Go(func() {
			for j := k; j < len(ids); j += interactResponders {
				for _, action := range []string{handlers.ActionInvestigate, handlers.ActionResolve} {
					ts := alerts[ids[j]]
					before, _ := w.slack.Message(localChannel, ts)
					cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
					t0 := time.Now()
					env, err := w.slack.ClickButton(cctx, who, localChannel, ts, action, ids[j])
					if err == nil {
						_, err = w.slack.WaitAck(cctx, env)
					}
					if err == nil {
						err = w.slack.WaitFor(cctx, func() bool {
							m, _ := w.slack.Message(localChannel, ts)
							return m.EditCount > before.EditCount
						})
					}
					d := time.Since(t0)
					cancel()
					mu.Lock()
					if err != nil && failed == nil {
						failed = fmt.Errorf("%s on %s: %w", action, ids[j], err)
					}
					run.clickToUpdate = append(run.clickToUpdate, d)
					envs = append(envs, env)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	stopTrickle()
	<-trickled
	if failed != nil {
		b.Fatal(failed)
	}

	// What Slack saw: envelope sent to ack received.
	sent := map[string]time.Time{}
	for _, e := range w.slack.Envelopes() {
		sent[e.EnvelopeID] = e.At
	}
	for _, a := range w.slack.Acks() {
		if slices.Contains(envs, a.EnvelopeID) {
			run.wireAcks = append(run.wireAcks, a.At.Sub(sent[a.EnvelopeID]))
			if a.Late {
				run.late++
			}
		}
	}
	mu.Lock()
	run.acks = slices.Clone(acks)
	mu.Unlock()
	run.clicks = len(envs)
	if os.Getenv("MFABOT_BENCH_DEBUG") != "" {
		var sb strings.Builder
		for i, d := range run.acks {
			fmt.Fprintf(&sb, "ack %d %v\n", i, d)
		}
		for i, d := range run.wireAcks {
			fmt.Fprintf(&sb, "wire %d %v\n", i, d)
		}
		for i, d := range run.clickToUpdate {
			fmt.Fprintf(&sb, "click %d %v\n", i, d)
		}
		_ = os.WriteFile(os.Getenv("MFABOT_BENCH_DEBUG"), []byte(sb.String()), 0o644)
	}
	if len(run.wireAcks) != run.clicks {
		b.Errorf("acks seen by Slack: %d, want %d", len(run.wireAcks), run.clicks)
	}
	return run
}

func BenchmarkInteraction(b *testing.B) {
	var all interactionRun
	for range b.N {
		r := runInteraction(b)
		all.acks = append(all.acks, r.acks...)
		all.wireAcks = append(all.wireAcks, r.wireAcks...)
		all.clickToUpdate = append(all.clickToUpdate, r.clickToUpdate...)
		all.clicks += r.clicks
		all.late += r.late
	}
	b.ReportMetric(benchMS(benchPercentile(all.acks, 50)), "ack_p50_ms")
	b.ReportMetric(benchMS(benchPercentile(all.acks, 99)), "ack_p99_ms")
	b.ReportMetric(benchMS(benchPercentile(all.wireAcks, 50)), "ack_wire_p50_ms")
	b.ReportMetric(benchMS(benchPercentile(all.wireAcks, 99)), "ack_wire_p99_ms")
	b.ReportMetric(benchMS(benchPercentile(all.clickToUpdate, 50)), "click_update_p50_ms")
	b.ReportMetric(benchMS(benchPercentile(all.clickToUpdate, 99)), "click_update_p99_ms")
	b.ReportMetric(float64(all.clicks), "clicks")
	b.Logf("interaction: %d clicks (Investigate, then Resolve, on %d alerts by %d responder(s) at once) with %v on chat.*, %v on IAM and Logs, %v on SQS, "+
		"%d failures/s arriving; acks (bot: accept to ack queued) p50 %.2f ms p99 %.2f ms max %.2f ms; "+
		"acks (Slack: envelope sent to ack read) p50 %.2f ms p99 %.2f ms, %d late; click to updated alert p50 %.0f ms p99 %.0f ms",
		all.clicks, interactIncidents, interactResponders, interactSlackLag, interactAWSLag, interactSQSLag, interactTrickle,
		benchMS(benchPercentile(all.acks, 50)), benchMS(benchPercentile(all.acks, 99)), benchMS(benchPercentile(all.acks, 100)),
		benchMS(benchPercentile(all.wireAcks, 50)), benchMS(benchPercentile(all.wireAcks, 99)), all.late,
		benchMS(benchPercentile(all.clickToUpdate, 50)), benchMS(benchPercentile(all.clickToUpdate, 99)))
}
