package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/seedlarge"
)

// seedLarge is `web seed-large [flags]`: one organisation at the size of
// the large-data measurement (docs/PERFORMANCE.md), plus many small ones.
// It is for measuring on a development database, so production refuses it.
func seedLarge(ctx context.Context, cfg config.Config, args []string, logger *slog.Logger) error {
	s := seedlarge.Full
	fs := flag.NewFlagSet("seed-large", flag.ContinueOnError)
	fs.StringVar(&s.Org, "org", s.Org, "`slug` of the organisation that grows (it must exist)")
	fs.IntVar(&s.Members, "members", s.Members, "members to add to it")
	fs.IntVar(&s.Projects, "projects", s.Projects, "projects to add to it")
	fs.IntVar(&s.Audit, "audit", s.Audit, "audit entries to add to it, over the past year")
	fs.IntVar(&s.Deliveries, "deliveries", s.Deliveries, "webhook deliveries of it, over the past 90 days")
	fs.IntVar(&s.OtherOrgs, "orgs", s.OtherOrgs, "other organisations to create")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: web seed-large [flags]\n\nFills the database with one large organisation; refuses a database seeded before.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed-large: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Production() {
		return errors.New("seed-large: refused in production (APP_ENV=production): it writes synthetic data")
	}
	pool, err := openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	started := time.Now()
	var progress seedlarge.Progress
	if isatty.IsTerminal(os.Stderr.Fd()) {
		progress = seedProgress(os.Stderr, started)
	}
	if err := seedlarge.Run(ctx, pool, s, progress); err != nil {
		return fmt.Errorf("seed-large: %w", err)
	}
	logger.Info("large seed done", "org", s.Org, "members", s.Members, "projects", s.Projects, "audit", s.Audit,
		"deliveries", s.Deliveries, "orgs", s.OtherOrgs, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// seedProgress redraws one line with the step and its rows so far, and ends
// the line when the statistics are done.
func seedProgress(w io.Writer, started time.Time) seedlarge.Progress {
	return func(step string, done, total int) {
		// \r returns to the start of the line, \x1b[K clears what is left of
		// a longer previous line.
		fmt.Fprintf(w, "\rseeding %s: %d of %d (%s)\x1b[K", step, done, total, time.Since(started).Round(100*time.Millisecond))
		if step == "statistics" && done == total {
			fmt.Fprintln(w)
		}
	}
}
