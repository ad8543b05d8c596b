package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/mfabot/mfabot/bot"
	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/investigate"
	"github.com/mfabot/mfabot/store"
)

// outside is how mfabot reaches Slack and AWS: the real services, or the
// local fakes of `mfabot demo` and the tests.
type outside struct {
	appToken, botToken string
	// slackAPIURL overrides Slack's API base; it ends in "/".
	slackAPIURL string
	aws         aws.Config
	now         func() time.Time
	// pingInterval is how long the socket waits for Slack's pings.
	pingInterval time.Duration
	// botOptions tune the worker pool.
	botOptions bot.Options
	// iamURL, logsURL and sqsURL, when set, replace the services'
	// endpoints (the environment's AWS_ENDPOINT_URL_* do the same for
	// `mfabot run`).
	iamURL, logsURL, sqsURL string
}

// slackCallTimeout bounds one Slack Web API call.
const slackCallTimeout = 15 * time.Second

// tokensFromEnv reads the Slack tokens and API URL. Errors never repeat a
// token's value.
func tokensFromEnv() (app, bot, apiURL string, err error) {
	app, bot, apiURL = os.Getenv("SLACK_APP_TOKEN"), os.Getenv("SLACK_BOT_TOKEN"), os.Getenv("SLACK_API_URL")
	var errs []error
	if !strings.HasPrefix(app, "xapp-") {
		errs = append(errs, errors.New("SLACK_APP_TOKEN must hold the app-level token (xapp-…) with connections:write"))
	}
	if !strings.HasPrefix(bot, "xoxb-") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN must hold the bot token (xoxb-…)"))
	}
	if apiURL != "" && !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return app, bot, apiURL, errors.Join(errs...)
}

func cmdRun(ctx context.Context, args []string, s streams) error {
	fs := newFlagSet("run", s)
	cfgPath := fs.String("config", "", "configuration file (default: $MFABOT_CONFIG, else ./mfabot.yml)")
	debug := fs.Bool("debug", false, "log debug messages")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path, _ := configPath(*cfgPath)
	cfg, err := loadConfig(path, true)
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w\nstart from the example: cp mfabot.example.yml mfabot.yml (or pass --config FILE, or set MFABOT_CONFIG)", err)
	}
	if err != nil {
		return err
	}
	if err := cfg.validateForRun(); err != nil {
		return fmt.Errorf("config %s:\n%w", path, err)
	}
	app, botTok, apiURL, err := tokensFromEnv()
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: level}))
	return serve(ctx, cfg, outside{appToken: app, botToken: botTok, slackAPIURL: apiURL, aws: awsCfg}, log, nil)
}

// serve runs the bot until ctx ends: the store, detection, the syncer that
// keeps Slack current, the event sources and the Socket Mode loop. ready,
// when set, is called once everything is started.
func serve(ctx context.Context, cfg config, out outside, log *slog.Logger, ready func(*handlers.App)) error {
	st, err := store.Open(cfg.Store.Path, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	inbox, err := store.OpenInbox(cfg.Store.Path+".inbox", 0)
	if err != nil {
		return err
	}
	defer inbox.Close()
	engine, err := detect.New(cfg.Detection)
	if err != nil {
		return err
	}

	// Every Slack call has a deadline, so that one call that never
	// answers cannot hold up the rest of the Slack work.
	slackOpts := []slack.Option{slack.OptionAppLevelToken(out.appToken), slack.OptionHTTPClient(&http.Client{Timeout: slackCallTimeout})}
	if out.slackAPIURL != "" {
		slackOpts = append(slackOpts, slack.OptionAPIURL(out.slackAPIURL))
	}
	api := slack.New(out.botToken, slackOpts...)
	if err := checkBotToken(ctx, api, log); err != nil {
		return err
	}
	var smOpts []socketmode.Option
	if out.pingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(out.pingInterval))
	}
	sm := socketmode.New(api, smOpts...)

	iamOps := awsops.NewIAM(iam.NewFromConfig(out.aws, func(o *iam.Options) { setEndpoint(&o.BaseEndpoint, out.iamURL) }), log)
	logs := awsops.NewInsights(cloudwatchlogs.NewFromConfig(out.aws, func(o *cloudwatchlogs.Options) { setEndpoint(&o.BaseEndpoint, out.logsURL) }), log)
	sqsAPI := sqs.NewFromConfig(out.aws, func(o *sqs.Options) { setEndpoint(&o.BaseEndpoint, out.sqsURL) })
	inv, err := newInvestigator(cfg, iamOps, logs, out.now, log)
	if err != nil {
		return err
	}
	app := &handlers.App{
		Store: st, Engine: engine, Slack: api, IAM: iamOps, MFA: iamOps, Investigator: inv,
		Cfg: handlers.Config{
			AlertChannel: cfg.Slack.AlertChannel, Responders: cfg.Slack.Responders, Approvers: cfg.Slack.Approvers,
			GroupWait: cfg.Slack.GroupWait, DeactivateMFA: cfg.Remediation.DeactivateMFA,
			SlackIDs: cfg.Users.SlackIDs, IAMTag: cfg.Users.IAMTag, EmailDomain: cfg.Users.EmailDomain,
			Account: cfg.AWS.AccountID, Region: cfg.AWS.Region, LogGroup: cfg.AWS.CloudTrailLogGroup, RunbookURL: cfg.RunbookURL,
		},
		Now: out.now, Log: log,
	}
	wake := make(chan struct{}, 1)
	app.Wake = func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	syncer := &handlers.Syncer{App: app}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = syncer.Run(ctx, wake)
	}()
	if err := startSources(ctx, &wg, cfg, sqsAPI, logs, app, log); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		app.Resume(ctx)
	}()
	if ready != nil {
		ready(app)
	}
	log.Info("mfabot running", "channel", cfg.Slack.AlertChannel, "store", cfg.Store.Path)
	opts := out.botOptions
	opts.Journal = inbox
	err = bot.New(sm, app, opts, log).Run(ctx)
	cancel()
	wg.Wait()
	log.Info("mfabot stopped")
	return err
}

// newInvestigator wires the runbook's investigation. Without a CloudTrail
// log group the Logs Insights steps report that they are not configured.
func newInvestigator(cfg config, devices investigate.DeviceLister, logs investigate.Querier, now func() time.Time, log *slog.Logger) (*investigate.Investigator, error) {
	group := cfg.AWS.CloudTrailLogGroup
	if group == "" {
		group = "(aws.cloudtrail_log_group is not set)"
		logs = unconfiguredLogs{}
	}
	return investigate.New(investigate.Config{Devices: devices, Logs: logs, LogGroup: group,
		FailedQuery: awsops.FailedLoginsQuery, RecentQuery: awsops.RecentLoginsQuery, Now: now, Logger: log})
}

// unconfiguredLogs answers every query with the configuration it lacks.
type unconfiguredLogs struct{}

func (unconfiguredLogs) Query(context.Context, string, string, time.Time, time.Time, int) ([]map[string]string, error) {
	return nil, errors.New("Logs Insights is not configured: set aws.cloudtrail_log_group in mfabot.yml")
}

// setEndpoint overrides a client's endpoint when url is set.
func setEndpoint(dst **string, url string) {
	if url != "" {
		*dst = aws.String(url)
	}
}

// checkBotToken asks Slack who the bot token belongs to, so that a wrong
// token stops mfabot at once with a clear message. When Slack cannot be
// reached the bot starts anyway: its work waits in the store.
func checkBotToken(ctx context.Context, api *slack.Client, log *slog.Logger) error {
	resp, err := api.AuthTestContext(ctx)
	var se slack.SlackErrorResponse
	switch {
	case err == nil:
		log.Info("slack bot token accepted", "team", resp.Team, "bot_user", resp.UserID)
		return nil
	case errors.As(err, &se) && slices.Contains([]string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}, se.Err):
		return fmt.Errorf("slack refused SLACK_BOT_TOKEN (auth.test: %s); use the bot token (xoxb-…) of the app installed from manifest.yml", se.Err)
	}
	log.Warn("could not check the slack bot token; starting anyway", "err", err)
	return nil
}
