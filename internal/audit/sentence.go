package audit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Actions recorded by the admin screens and the membership trigger, named
// here so that Sentence can word them.
const (
	MemberAdded        = "member.added"
	MemberRemoved      = "member.removed"
	MemberRoleChanged  = "member.role_changed"
	OrgSettingsUpdated = "organization.settings_updated"
	InvitationCreated  = "invitation.created"
	InvitationRevoked  = "invitation.revoked"
	WebhookReplayed    = "webhook.replayed"
)

// Sentence words an entry for people, with names rather than ids: "Alice
// Anders changed Bob Baker's role from Member to Admin". Entries written by
// the membership trigger have Clerk as their actor (the change came from a
// webhook), so they are worded about the person they concern. An action it
// does not know is shown as "<actor> did <action>", never dropped.
func Sentence(e Item) string {
	actor := e.ActorName
	if actor == "" {
		actor = e.Actor
	}
	byClerk := e.Actor == "clerk"
	if byClerk {
		actor = "Clerk"
	}
	if actor == "" {
		actor = "someone"
	}
	person := e.TargetName
	if person == "" {
		person = e.Target
	}
	if person == "" {
		person = "someone"
	}
	d := e.Details
	var s string
	switch e.Action {
	case ProjectCreated:
		s = actor + " created project " + quote(d["name"])
	case ProjectRenamed:
		s = actor + " renamed a project to " + quote(d["name"])
	case ProjectDeleted:
		s = actor + " deleted project " + quote(d["name"])
	case OrgCreated:
		s = actor + " created the organisation " + d["name"]
	case OrgExported:
		s = actor + " exported the organisation's data"
	case OrgLeft:
		s = actor + " left the organisation"
	case OrgPlanSet:
		s = actor + " set the plan to " + RoleName(d["plan"])
	case OrgSettingsUpdated:
		s = actor + " updated the organisation settings" + settingsChanges(d)
	case MemberAdded:
		if byClerk {
			s = person + " joined the organisation as " + RoleName(d["role"])
		} else {
			s = actor + " added " + person + " as " + RoleName(d["role"])
		}
	case MemberRemoved:
		if byClerk {
			s = person + " is no longer a member"
		} else {
			s = actor + " removed " + person
		}
	case MemberRoleChanged:
		// The admin screens record the change as from/to; the trigger
		// records the role the membership now has.
		to := d["to"]
		if to == "" {
			to = d["role"]
		}
		if byClerk {
			s = person + "'s role is now " + RoleName(to)
		} else {
			s = actor + " changed " + person + "'s role to " + RoleName(to)
		}
	case InvitationCreated:
		s = actor + " invited " + d["email"] + " as " + RoleName(d["role"])
	case InvitationRevoked:
		s = actor + " revoked the invitation to " + d["email"]
	case WebhookReplayed:
		s = actor + " replayed a " + d["type"] + " webhook delivery"
		if d["status"] != "" {
			s += " (" + d["status"] + ")"
		}
	default:
		s = actor + " did " + e.Action
	}
	if e.Impersonator != "" {
		s += " (impersonated by " + e.Impersonator + ")"
	}
	return s
}

// settingsChanges lists what a settings update changed: "name Acme → Acme
// Inc". Entries written before the previous values were recorded only have
// the new ones.
func settingsChanges(d map[string]string) string {
	var parts []string
	for _, f := range []struct{ key, label string }{{"name", "name"}, {"slug", "slug"}, {"logo_url", "logo"}} {
		to, ok := d[f.key]
		if !ok {
			continue
		}
		if to == "" {
			to = "none"
		}
		if from, ok := d["previous_"+f.key]; ok {
			if from == "" {
				from = "none"
			}
			parts = append(parts, f.label+" "+from+" → "+to)
		} else {
			parts = append(parts, f.label+" "+to)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// RoleName shows a role key ("org:admin") or plan as a word ("Admin").
func RoleName(key string) string {
	key = strings.TrimPrefix(key, "org:")
	if key == "" {
		return "none"
	}
	r, n := utf8.DecodeRuneInString(key)
	return string(unicode.ToUpper(r)) + strings.ReplaceAll(key[n:], "_", " ")
}

func quote(s string) string { return "“" + s + "”" }
