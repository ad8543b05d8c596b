package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
)

// UserDM renders the direct message to the affected person: what was
// noticed, how to get a working code, and three buttons to answer. Once
// the person has answered (answer is neither AnswerNone nor
// AnswerAwaitingReply) the buttons are replaced by an acknowledgement.
func UserDM(inc *incident.Incident, answer incident.Answer) Message {
	if inc == nil {
		inc = &incident.Incident{}
	}
	when := slackDate(inc.LastSeen, "{date_short_pretty} at {time}")
	from := ""
	if ip := lastSourceIP(inc); ip != "" {
		from = " from " + code(ip, 47)
	}
	noticed := fmt.Sprintf("We noticed a failed AWS console sign-in as *%s* (account %s) at %s%s.",
		clip(inc.Subject.User, 128), code(inc.Subject.Account, 40), when, from)
	if inc.Failures > 1 {
		noticed = fmt.Sprintf("We noticed %d failed AWS console sign-ins as *%s* (account %s), the last at %s%s.",
			inc.Failures, clip(inc.Subject.User, 128), code(inc.Subject.Account, 40), when, from)
	}
	tips := []string{
		"*If it was you:*",
		"• Wait for a *fresh* code. Codes change every 30 seconds, so don't reuse one that's about to expire.",
		"• Make sure your phone's clock is set automatically (date & time settings): clock drift breaks codes.",
		"• Then try again.",
	}
	if inc.Stage == incident.StagePassword {
		tips = append(tips, "The failure happened before the MFA step, so also check that you typed the right password.")
	}
	blocks := []slack.Block{
		sectionBlock("dm_intro", ":wave: Hi! "+noticed),
		sectionBlock("dm_tips", strings.Join(tips, "\n")),
	}
	text := "We noticed a failed AWS console sign-in as " + clip(inc.Subject.User, 128) + " at " + utc(inc.LastSeen) + ". Was it you?"
	if ack := answerAck(answer); ack != "" {
		blocks = append(blocks, sectionBlock("dm_answer", ack))
	} else {
		blocks = append(blocks,
			sectionBlock("dm_ask", "Let us know how it goes. If this wasn't you, tell us right away."),
			slack.NewActionBlock("dm_actions",
				button(ActionUserRecovered, "I'm in now", inc.ID, slack.StylePrimary),
				button(ActionUserStillFailing, "Still failing", inc.ID, ""),
				button(ActionUserNotMe, "This wasn't me", inc.ID, slack.StyleDanger),
			))
	}
	blocks = append(blocks, contextBlock("dm_context", "Reference: "+clip(inc.ID, 40)+" · sent by mfabot for the security team"))
	return newMessage(text, blocks...)
}

// answerAck acknowledges the person's answer; "" while none is given.
func answerAck(a incident.Answer) string {
	switch a {
	case incident.AnswerNone, incident.AnswerAwaitingReply:
		return ""
	case incident.AnswerRecovered:
		return ":white_check_mark: Thanks, glad you're back in. Nothing else to do."
	case incident.AnswerStillFailing:
		return ":key: Thanks — a reset has been requested; a responder will verify your identity before anything changes."
	case incident.AnswerNotMe:
		return ":shield: Thanks for telling us — the security team is looking into it and will contact you. Don't share any codes with anyone."
	}
	return "Thanks — this message is no longer active."
}

// lastSourceIP is the address of the latest failure, as far as known.
func lastSourceIP(inc *incident.Incident) string {
	if n := len(inc.Recent); n > 0 && inc.Recent[n-1].SourceIP != "" {
		return inc.Recent[n-1].SourceIP
	}
	if len(inc.SourceIPs) == 1 {
		return inc.SourceIPs[0]
	}
	return ""
}

// ReEnrolDM tells the person their MFA device(s) were deactivated (or, with
// none deactivated, that an admin will deactivate them) and how to enrol a
// new device soon. The admin command is never shown to the person.
func ReEnrolDM(inc *incident.Incident, deactivated []string, command string) Message {
	if inc == nil {
		inc = &incident.Incident{}
	}
	user, acct := clip(inc.Subject.User, 128), code(inc.Subject.Account, 40)
	var first string
	switch {
	case len(deactivated) == 1:
		first = fmt.Sprintf(":key: After an approver verified your identity, the MFA device of *%s* (account %s) was deactivated: %s.",
			user, acct, code(deactivated[0], 200))
	case len(deactivated) > 1:
		first = fmt.Sprintf(":key: After an approver verified your identity, the MFA devices of *%s* (account %s) were deactivated: %s.",
			user, acct, list(deactivated, 5, 200, 0, code))
	case command != "":
		first = fmt.Sprintf(":key: Your MFA reset for *%s* (account %s) was approved; an administrator will deactivate your old MFA device shortly. We'll let you know when it's done, or try the steps below in a little while.", user, acct)
	default:
		first = fmt.Sprintf(":key: Your MFA reset for *%s* (account %s) was approved; an administrator will deactivate your old MFA device shortly.", user, acct)
	}
	steps := strings.Join([]string{
		"*Please enrol a new MFA device soon* — until you do, your sign-in is protected by your password alone:",
		"1. Sign in to the AWS console with your user name and password.",
		"2. Open the account menu (top right) → *Security credentials*.",
		"3. Under *Multi-factor authentication (MFA)*, choose *Assign MFA device* and follow the steps.",
		"Tip: set your phone's clock to update automatically, and always use a fresh code.",
	}, "\n")
	return newMessage("Your AWS MFA was reset: please enrol a new MFA device soon ("+clip(inc.ID, 40)+")",
		sectionBlock("reenrol_intro", first),
		sectionBlock("reenrol_steps", steps),
		contextBlock("reenrol_context", "Reference: "+clip(inc.ID, 40)+" · questions? Ask in the security channel."),
	)
}

// NotAllowed renders the ephemeral answer to someone who may not do what
// they tried. why may carry plain user mentions (<@U123>) and values
// already passed through Escape; anything else in it is escaped.
func NotAllowed(why string) Message {
	text := ":no_entry: " + clipSafe(why, 2000)
	return newMessage(text, sectionBlock("not_allowed", text))
}

// ErrorMessage renders an ephemeral error for a /mfa command; a UserError
// is shown as is (escaped), any other error as a generic apology.
func ErrorMessage(err error) Message {
	msg := "Something went wrong; the details are in mfabot's log."
	var ue *UserError
	if errors.As(err, &ue) {
		msg = ue.Msg
	}
	text := ":warning: " + clipSafe(msg, 2000)
	return newMessage(text, sectionBlock("error", text))
}

// NoSlackUser is the thread text posted when no Slack user was found for
// an IAM user: what was tried and how to configure the mapping.
func NoSlackUser(iamUser string, tried []string) string {
	s := fmt.Sprintf(":bust_in_silhouette: Couldn't find a Slack user for IAM user *%s*", clip(iamUser, 128))
	if len(tried) > 0 {
		s += " (tried: " + list(tried, 10, 200, 0, clip) + ")"
	}
	s += ". To let mfabot reach them, map them in `users.slack_ids` in mfabot.yml, " +
		"tag the IAM user with the tag named by `users.iam_tag` (value: their Slack member ID), " +
		"or set `users.email_domain` so that mfabot finds &lt;user&gt;@&lt;domain&gt; with users.lookupByEmail."
	return fitMrkdwn(s, maxSectionText)
}
