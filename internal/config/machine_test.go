package config_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestMachineAndInstanceSettings: CLERK_MACHINE_SECRET_KEY and
// CLERK_INSTANCE_ID are optional, checked for their shape, and the machine
// secret never reaches the start-up log.
func TestMachineAndInstanceSettings(t *testing.T) {
	t.Parallel()
	clerk := func(extra ...string) map[string]string {
		m := map[string]string{"SESSION_SECRET": key32, "CLERK_SECRET_KEY": "sk_test_x",
			"CLERK_PUBLISHABLE_KEY": "pk_test_x", "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_x"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	cfg, err := load(clerk())
	if err != nil || cfg.ClerkMachineSecretKey != "" || cfg.ClerkInstanceID != "" {
		t.Fatalf("defaults: %q %q %v", cfg.ClerkMachineSecretKey, cfg.ClerkInstanceID, err)
	}
	cfg, err = load(clerk("CLERK_MACHINE_SECRET_KEY", "ak_MACHINESECRETVALUE", "CLERK_INSTANCE_ID", "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S"))
	if err != nil || cfg.ClerkMachineSecretKey != "ak_MACHINESECRETVALUE" || cfg.ClerkInstanceID != "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S" {
		t.Fatalf("set: %+v %v", cfg, err)
	}
	out := fmt.Sprint(cfg.LogValue())
	if strings.Contains(out, "MACHINESECRETVALUE") || !strings.Contains(out, "ak_****") || !strings.Contains(out, "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S") {
		t.Errorf("log value: %s", out)
	}
	for name, env := range map[string]map[string]string{
		"ErrMachineKeyIsInstanceKey": clerk("CLERK_MACHINE_SECRET_KEY", "sk_live_x"),
		"ErrMachineKeyEmptyBody":     clerk("CLERK_MACHINE_SECRET_KEY", "ak_"),
		"ErrInstanceID":              clerk("CLERK_INSTANCE_ID", "app_2g7np7Hrk0SN6kj5EDMLDaKNL0S"),
		"ErrInstanceIDPath":          clerk("CLERK_INSTANCE_ID", "ins_../../x"),
	} {
		_, err := load(env)
		want := "CLERK_MACHINE_SECRET_KEY"
		if strings.HasPrefix(name, "ErrInstance") {
			want = "CLERK_INSTANCE_ID"
		}
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s", name, err, want)
		}
	}
}
