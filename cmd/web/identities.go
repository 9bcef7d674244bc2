package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"

	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/identityfile"
)

// exportIdentities is `web export-identities [-o FILE]`: the identity file
// (docs/MIGRATION.md) on standard output or in FILE. FILE appears only once
// the export is complete, readable by its owner only: it holds personal data.
func exportIdentities(ctx context.Context, cfg config.Config, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("export-identities", flag.ContinueOnError)
	out := fs.String("o", "", "write to `FILE` (mode 0600) instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: web export-identities [-o FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export-identities: unexpected argument %q", fs.Arg(0))
	}
	pool, err := openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	export := func(w io.Writer) (identityfile.Counts, error) {
		if !isatty.IsTerminal(os.Stderr.Fd()) {
			return identityfile.Export(ctx, pool, w, identityfile.ExportOptions{})
		}
		line := &progressLine{w: os.Stderr, every: 200 * time.Millisecond}
		defer line.done()
		return identityfile.Export(ctx, pool, w, identityfile.ExportOptions{Progress: line.show})
	}
	if *out == "" {
		counts, err := export(os.Stdout)
		if err != nil {
			return fmt.Errorf("export-identities: %w", err)
		}
		logger.Info("identities exported", "records", counts.String())
		return nil
	}
	// A temporary file beside FILE, renamed over it at the end: an export
	// that fails half-way never leaves a file that looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".identities-*.jsonl")
	if err != nil {
		return fmt.Errorf("export-identities: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	counts, err := export(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), *out)
	}
	if err != nil {
		return fmt.Errorf("export-identities: %w", err)
	}
	logger.Info("identities exported", "file", *out, "records", counts.String())
	return nil
}

// importIdentities is `web import-identities --provider NAME [--dry-run]
// FILE`: maps the provider's ids in FILE ("-" for standard input) onto the
// existing rows, and prints what it did.
func importIdentities(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import-identities", flag.ContinueOnError)
	provider := fs.String("provider", "", "the new provider's `NAME`: the key of external_ids to read (\"clerk\" replaces the Clerk ids)")
	dryRun := fs.Bool("dry-run", false, "check everything and report what would change, without writing")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: web import-identities --provider NAME [--dry-run] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err)
	}
	if *provider == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import-identities: --provider and one FILE are required")
	}
	in := os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import-identities: %w", err)
		}
		defer f.Close()
		in = f
	}
	pool, err := openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := identityfile.Import(ctx, pool, in, identityfile.ImportOptions{Provider: *provider, DryRun: *dryRun})
	if err != nil {
		return fmt.Errorf("import-identities %s: %w (nothing was imported)", fs.Arg(0), err)
	}
	fmt.Fprint(stdout, rep.String())
	return nil
}

// openCurrent opens the pool of a database that has every migration of
// this binary applied. The identity commands read and map rows; they leave
// changing the schema to `web migrate`.
func openCurrent(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	latest, err := database.LatestVersion()
	if err == nil {
		err = database.Ready(ctx, pool, latest)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w (run `web migrate` first)", err)
	}
	return pool, nil
}

// helpIsNoError turns -h into a clean exit: the usage has been printed.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// progressLine redraws one line on a terminal with the counts so far, at
// most once per every, and ends it when the export is done.
type progressLine struct {
	w     io.Writer
	every time.Duration
	last  time.Time
	shown bool
	now   func() time.Time
}

func (p *progressLine) show(c identityfile.Counts) {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	if t := now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.shown = true
		// \r returns to the start of the line, \x1b[K clears what is left of
		// a longer previous line.
		fmt.Fprintf(p.w, "\rexporting: %s\x1b[K", c)
	}
}

func (p *progressLine) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
