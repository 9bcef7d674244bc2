package clerksync

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNormalizeRole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"admin": "org:admin", "basic_member": "org:member", "": "org:member",
		"org:admin": "org:admin", "org:billing": "org:billing", "billing": "org:billing", " admin ": "org:admin",
	} {
		if got := normalizeRole(in); got != want {
			t.Errorf("normalizeRole(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	if got := clean("a\x00b\xffc", 10); got != "abc" {
		t.Errorf("clean = %q", got)
	}
	if got := clean(strings.Repeat("é", 10), 3); got != "ééé" {
		t.Errorf("clean truncation = %q", got)
	}
}

func TestClerkTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		`1716883200000`:   time.UnixMilli(1716883200000),
		`1716883200`:      time.Unix(1716883200, 0), // seconds, as in Clerk's OAS examples
		`"1716883200000"`: time.UnixMilli(1716883200000),
		`null`:            {},
		`{}`:              {},
		`-5`:              {},
	} {
		var ct clerkTime
		if err := ct.UnmarshalJSON([]byte(in)); err != nil || !ct.Equal(want) {
			t.Errorf("%s → %v, %v; want %v", in, ct.Time, err, want)
		}
	}
}

func TestStorableJSONStripsNUL(t *testing.T) {
	t.Parallel()
	out, err := storableJSON([]byte(`{"a\u0000":"x\u0000y","n":[1.50,"\u0000"]}`))
	if err != nil || string(out) != `{"a":"xy","n":[1.50,""]}` {
		t.Fatalf("= %s, %v", out, err)
	}
}

// FuzzDecode feeds arbitrary bodies through the whole decode path (envelope,
// typed data, sanitising). It must never panic, and whatever it accepts must
// be safe to store: valid UTF-8 without NUL.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"user.created","data":{"id":"user_1","email_addresses":[{"id":"e","email_address":"a@b"}],"primary_email_address_id":"e"}}`,
		`{"type":"organizationMembership.deleted","data":{"id":"m","organization":{"id":"o","public_metadata":{"plan":"pro"}},"public_user_data":{"user_id":"u","identifier":"x@y"}}}`,
		`{"type":"organizationInvitation.accepted","data":{"id":"i","organization_id":"o","status":"accepted"}}`,
		`{"type":"session.revoked","data":{"id":"sess_1","user_id":"u"}}`,
		`{"type":"user.deleted","data":{"id":"user_1","deleted":true},"timestamp":1716883200}`,
		`{"type":"organization.updated","data":{"id":"o\u0000","name":"\u0000","public_metadata":{"plan":5}}}`,
		`{"type":"x","data":null}`, `[]`, `null`, `{"type":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			return
		}
		if strings.ContainsRune(ev.Type, 0) || !utf8.ValidString(ev.Type) {
			t.Fatalf("unsafe type %q", ev.Type)
		}
		ch, err := decode(ev)
		if err != nil {
			return
		}
		for _, s := range []string{ch.objectID, ch.orgID} {
			if strings.ContainsRune(s, 0) || !utf8.ValidString(s) || len(s) > maxID*4 {
				t.Fatalf("unsafe id %q", s)
			}
		}
		if _, err := storableJSON(body); err != nil {
			t.Fatalf("storableJSON refused a parsed body: %v", err)
		}
	})
}
